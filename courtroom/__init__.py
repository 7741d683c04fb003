"""The hub service: FastAPI app, hearings, invites, the hearing websocket and the command line."""

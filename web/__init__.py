"""The browser clients served by the hub (static files in ``static/``)."""

"""The numbers both ends of the hearing websocket must agree on: message
sizes, identifier lengths, and the close codes that tell a client whether
to come back."""

from __future__ import annotations

from enum import IntEnum

#: A message longer than this gets ``too_large``; above ``HARD_MESSAGE_LIMIT``
#: the transport closes the socket (1009).
MESSAGE_LIMIT = 512 * 1024
HARD_MESSAGE_LIMIT = 4 * 1024 * 1024
#: Characters of a client's op_id, and of an interim (``partial``) text.
MAX_OP_ID = 128
MAX_PARTIAL = 1_000


class Close(IntEnum):
    """Websocket close codes of the hub."""
    NORMAL = 1000
    #: A frame over ``HARD_MESSAGE_LIMIT``.
    TOO_BIG = 1009
    #: The hearing's log could not be written or read: reconnect and sync.
    UNAVAILABLE = 1011
    #: This client did not read its messages: reconnect and sync.
    TOO_SLOW = 4008
    #: The credential is not (or no longer) valid: do not come back with it.
    REVOKED = 4401

"""Which worker a new connection belongs to, from the first line of its
request: pure functions, no sockets.

A connection about one hearing or case (its page, its websocket, its API)
goes to the worker holding the stream's lease; one about none (creating a
hearing, the staff console, static files) to the next worker in turn. A
stream nobody holds goes to the worker its id hashes to, which then takes
the lease when it loads the stream: the same stream lands on the same
worker as long as that worker lives, whichever screen asks first.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

#: A request line longer than this is not waited for: the worker's HTTP
#: parser answers whatever it is.
MAX_LINE = 8192

_STREAM = re.compile(r"/(?:api/|ws/)?(?:hearings|cases)/([hc]-[0-9a-f]{16})(?:[/?#].*)?")


@dataclass(frozen=True, slots=True)
class Head:
    """What the first bytes of a connection say: the request's target (None
    if they are not an HTTP request line) and whether more bytes are needed
    to tell."""
    target: str | None
    complete: bool


def read_head(data: bytes) -> Head:
    """The request line of ``data`` (bytes peeked from a new connection)."""
    end = data.find(b"\r\n")
    if end == -1:
        if len(data) >= MAX_LINE:
            return Head(None, True)
        return Head(None, False)
    parts = data[:end].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
        return Head(None, True)
    return Head(parts[1].decode("latin-1"), True)


def stream_of(target: str | None) -> str | None:
    """The hearing or case a request target is about, if any."""
    if not target:
        return None
    match = _STREAM.fullmatch(target)
    return match.group(1) if match else None


def worker_of_node(node_id: str) -> int | None:
    """The worker index a worker's node id names (``w<k>-…``)."""
    match = re.match(r"w(\d+)-", node_id)
    return int(match.group(1)) if match else None


def node_id(index: int, pid: int, nonce: str) -> str:
    """A worker's node id: its index first, so the front can read it."""
    return f"w{index}-{pid}-{nonce}"


def home_of(stream_id: str, workers: int) -> int:
    """The worker a stream nobody holds is sent to."""
    return zlib.crc32(stream_id.encode()) % workers


def is_home(stream_id: str, index: int, workers: int) -> bool:
    """Whether worker ``index`` of ``workers`` is the stream's home."""
    return home_of(stream_id, workers) == index


def choose(stream_id: str | None, holder: int | None, live: list[bool], turn: int) -> int | None:
    """The worker for a connection: the stream's holder if it is live,
    else its home, else the next live one; for no stream, the first live
    worker from ``turn`` on. None while no worker is live."""
    n = len(live)
    if not any(live):
        return None
    if stream_id is None:
        start = turn % n
    elif holder is not None and 0 <= holder < n and live[holder]:
        return holder
    else:
        start = home_of(stream_id, n)
    for k in range(n):
        index = (start + k) % n
        if live[index]:
            return index
    return None

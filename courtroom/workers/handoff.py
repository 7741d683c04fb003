"""A worker's end of the front: connections handed over, served here.

The worker runs uvicorn as ever, on a private loopback port of its own
(where the other workers pass on the odd HTTP request whose stream it
holds). Connections the front accepted arrive as file descriptors on the
handoff socket and are given to uvicorn's own HTTP protocol, exactly as if
this process had accepted them. When the handoff socket closes, the front
is gone, and so is this worker.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import uvicorn

log = logging.getLogger(__name__)

#: Connections taken per wake-up of the handoff socket.
BATCH = 64


class WorkerServer(uvicorn.Server):
    """uvicorn's server, that also serves what the front hands over once
    it has started (after the app's startup: the hub is ready)."""

    def __init__(self, config: uvicorn.Config, handoff: socket.socket) -> None:
        super().__init__(config)
        self.handoff = handoff

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.should_exit:
            return
        self.handoff.setblocking(False)
        asyncio.get_running_loop().add_reader(self.handoff, self._handed)
        self.handoff.send(b"ready")

    def _new_protocol(self) -> asyncio.Protocol:
        config: Any = self.config
        return config.http_protocol_class(config=config, server_state=self.server_state,  # type: ignore[no-any-return]
                                          app_state=self.lifespan.state)

    def _handed(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(BATCH):
            try:
                message, fds, _, _ = socket.recv_fds(self.handoff, 16, 16)
            except BlockingIOError:
                return
            except OSError:
                message, fds = b"", []
            if not message and not fds:
                log.warning("the front is gone; this worker stops")
                loop.remove_reader(self.handoff)
                self.should_exit = True
                return
            for fd in fds:
                conn = socket.socket(fileno=fd)
                conn.setblocking(False)
                asyncio.ensure_future(self._take(conn))

    async def _take(self, conn: socket.socket) -> None:
        try:
            await asyncio.get_running_loop().connect_accepted_socket(self._new_protocol, conn)
        except OSError as err:  # the client left meanwhile
            log.debug("a handed connection closed before it was served: %s", err)
            conn.close()

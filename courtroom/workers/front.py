"""The front of ``courtroom serve --workers N``: one address, N hub processes.

One Python process uses one core, so a hub that is to use a machine's
cores is several processes. The front owns the listening socket. For each
new connection it peeks at the request line (nothing is read off the
socket), looks up which worker holds the lease of the hearing or case the
request is about (``route``), and passes the connected socket itself to
that worker over a Unix socket (SCM_RIGHTS). The worker serves it as if it
had accepted it: no byte of a screen's traffic passes through the front,
and the worker sees the client's own address. WebRTC media never touches
the front: each worker's ICE candidates are its own ports.

The front also keeps the workers running: one that dies is started again
(its streams' leases expire and the next screen that asks takes them,
on its home worker), and the workers die with the front (PR_SET_PDEATHSIG),
so ``kill -9`` of the front is ``kill -9`` of the hub.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from storage.leases import Leases

from .route import Head, choose, read_head, stream_of, worker_of_node

log = logging.getLogger(__name__)

#: Seconds between a worker's death and its restart (a worker that dies at
#: start is not restarted in a tight loop).
RESTART_AFTER = 0.5
#: Seconds the front waits at start for every worker before it takes
#: connections anyway (with those that serve).
READY_WITHIN = 30.0
#: Seconds between tries to hand on connections queued for a full handoff socket.
DRAIN_EVERY = 0.005
#: Seconds between peeks at a connection whose request line is not complete.
PEEK_EVERY = 0.005


@dataclass
class Worker:
    index: int
    proc: subprocess.Popen[bytes] | None = None
    #: The front's end of the worker's handoff socket.
    sock: socket.socket | None = None
    ready: bool = False
    started: float = 0.0
    waiting: list[socket.socket] = field(default_factory=list)
    #: Connections for a ready worker while its handoff socket is full.
    queued: deque[socket.socket] = field(default_factory=deque)


class Front:
    def __init__(self, host: str, port: int, workers: int, command: Callable[[int, int], list[str]],
                 leases: Callable[[], Leases], head_timeout: float, clear_leases: bool,
                 max_heads: int = 10_000) -> None:
        """``command(index, fd)``: the argv of worker ``index`` whose handoff
        socket is ``fd``; ``leases()``: a lease table of the hub's database
        (opened on the front's lookup thread); ``clear_leases``: drop every
        lease at start (the embedded store, which only this front's workers
        use: whoever held them is dead)."""
        self.host, self.port = host, port
        self.workers = [Worker(k) for k in range(workers)]
        self.command = command
        self._open_leases = leases
        self.head_timeout = head_timeout
        self.clear_leases = clear_leases
        self._lookup = ThreadPoolExecutor(1, thread_name_prefix="front-leases")
        self._leases: Leases | None = None
        self._turn = itertools.count()
        self._stopping = asyncio.Event()
        #: Connections whose request line is awaited, oldest first.
        self._pending: dict[asyncio.Task[None], None] = {}
        self.max_heads = max_heads

    # -- leases (on the lookup thread) ---------------------------------------------

    def _table(self) -> Leases:
        if self._leases is None:
            self._leases = self._open_leases()
        return self._leases

    def _holder(self, stream_id: str) -> int | None:
        lease = self._table().holder(stream_id)
        if lease is None or lease.expires_ms < time.time() * 1000:
            return None
        return worker_of_node(lease.node)

    # -- running ------------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        if self.clear_leases:
            await loop.run_in_executor(self._lookup, lambda: self._table().clear())
        listener = socket.create_server((self.host, self.port), backlog=2048, reuse_port=False)
        listener.setblocking(False)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        for worker in self.workers:
            self._start(worker)
        # Connections wait in the backlog until every worker serves (or a
        # while has passed): the first screens after a start are spread
        # over all of them, not given to whichever was quickest.
        deadline = time.monotonic() + READY_WITHIN
        while not all(w.ready for w in self.workers) and time.monotonic() < deadline \
                and not self._stopping.is_set():
            await asyncio.sleep(0.02)
        accepting = asyncio.create_task(self._accept(listener))
        watching = asyncio.create_task(self._watch())
        try:
            await self._stopping.wait()
        finally:
            accepting.cancel()
            watching.cancel()
            listener.close()
            await self._stop_workers()
            self._lookup.shutdown(wait=False)

    def _start(self, worker: Worker) -> None:
        front_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            worker.proc = subprocess.Popen(self.command(worker.index, worker_end.fileno()),
                                           pass_fds=[worker_end.fileno()])
        finally:
            worker_end.close()
        front_end.setblocking(False)
        worker.sock, worker.ready, worker.started = front_end, False, time.monotonic()
        asyncio.get_running_loop().add_reader(front_end, self._from_worker, worker)

    def _from_worker(self, worker: Worker) -> None:
        """A worker says it serves (``ready``), or its socket closed (it died)."""
        assert worker.sock is not None
        try:
            message = worker.sock.recv(64)
        except BlockingIOError:
            return
        except OSError:
            message = b""
        if message == b"ready":
            worker.ready = True
            log.info("worker %d (pid %d) serving", worker.index, worker.proc.pid if worker.proc else 0)
            waiting, worker.waiting = worker.waiting, []
            for conn in waiting:
                self._hand(worker, conn)
            return
        if not message:
            self._lost(worker)

    def _lost(self, worker: Worker) -> None:
        if worker.sock is not None:
            asyncio.get_running_loop().remove_reader(worker.sock)
            worker.sock.close()
            worker.sock = None
        worker.ready = False
        for conn in [*worker.waiting, *worker.queued]:
            conn.close()
        worker.waiting = []
        worker.queued.clear()

    async def _watch(self) -> None:
        """Start again every worker that died."""
        while True:
            await asyncio.sleep(0.2)
            for worker in self.workers:
                if worker.proc is not None and worker.proc.poll() is not None:
                    log.warning("worker %d exited with %s; starting it again", worker.index, worker.proc.returncode)
                    self._lost(worker)
                    worker.proc = None
                    await asyncio.sleep(RESTART_AFTER)
                    if not self._stopping.is_set():
                        self._start(worker)

    async def _stop_workers(self) -> None:
        for worker in self.workers:
            if worker.proc is not None and worker.proc.poll() is None:
                worker.proc.terminate()
        deadline = time.monotonic() + 10
        for worker in self.workers:
            if worker.proc is None:
                continue
            while worker.proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if worker.proc.poll() is None:
                worker.proc.kill()
                worker.proc.wait()
            self._lost(worker)

    # -- connections -----------------------------------------------------------------

    async def _accept(self, listener: socket.socket) -> None:
        """Take connections in. Those that have not said what they want yet
        are held at most ``max_heads`` at once: at the cap (or out of file
        descriptors), the one waiting longest is dropped, so sockets that
        never send a request cannot keep anyone else out."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(listener)
            except OSError as err:
                if self._pending:
                    self._drop_oldest()
                    continue
                log.warning("accept failed: %s", err)
                await asyncio.sleep(0.1)
                continue
            if len(self._pending) >= self.max_heads:
                self._drop_oldest()
            task = asyncio.create_task(self._route(conn))
            self._pending[task] = None
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._pending.pop(task, None)

    def _drop_oldest(self) -> None:
        oldest = next(iter(self._pending))
        del self._pending[oldest]
        oldest.cancel()

    async def _route(self, conn: socket.socket) -> None:
        try:
            head = await self._head(conn)
        except (OSError, TimeoutError, asyncio.CancelledError):
            conn.close()
            return
        # It has said what it wants: no longer one to drop at the cap.
        self._pending.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
        stream_id = stream_of(head.target)
        holder = None
        if stream_id is not None:
            try:
                holder = await asyncio.get_running_loop().run_in_executor(self._lookup, self._holder, stream_id)
            except Exception as err:  # the database away: the home worker will say so
                log.warning("lease of %s not read: %s", stream_id, err)
        index = choose(stream_id, holder, [w.ready for w in self.workers], next(self._turn))
        if index is None:
            # No worker serves yet (starting, or all restarting): the first
            # that does takes it.
            index = choose(stream_id, holder, [w.sock is not None for w in self.workers], next(self._turn))
            if index is None:
                conn.close()
                return
            self.workers[index].waiting.append(conn)
            return
        self._hand(self.workers[index], conn)

    async def _head(self, conn: socket.socket) -> Head:
        """Peek until the request line is complete (or tells it is not HTTP)."""
        loop = asyncio.get_running_loop()
        readable = loop.create_future()
        loop.add_reader(conn, lambda: readable.done() or readable.set_result(None))
        try:
            await asyncio.wait_for(readable, self.head_timeout)
        finally:
            loop.remove_reader(conn)
        deadline = time.monotonic() + self.head_timeout
        while True:
            data = conn.recv(2048, socket.MSG_PEEK)
            if not data:
                raise OSError("closed before a request")
            head = read_head(data)
            if head.complete or time.monotonic() > deadline:
                return head
            await asyncio.sleep(PEEK_EVERY)

    def _hand(self, worker: Worker, conn: socket.socket) -> None:
        """Pass the connection to the worker; the front's copy is closed.
        While the handoff socket is full (a storm of connections), they
        queue here in order and go as it drains."""
        if worker.queued:
            worker.queued.append(conn)
            return
        if not self._send(worker, conn):
            worker.queued.append(conn)
            asyncio.get_running_loop().call_later(DRAIN_EVERY, self._drain, worker)

    def _send(self, worker: Worker, conn: socket.socket) -> bool:
        """False if the handoff socket cannot take it now (``conn`` is kept):
        its buffer is full, or the kernel's count of descriptors in flight
        is (ETOOMANYREFS), both until the worker has read."""
        try:
            if worker.sock is None:
                raise OSError("worker gone")
            socket.send_fds(worker.sock, [b"c"], [conn.fileno()])
        except BlockingIOError:
            return False
        except OSError as err:
            if err.errno == errno.ETOOMANYREFS:
                return False
            log.warning("could not hand a connection to worker %d: %s", worker.index, err)
        conn.close()
        return True

    def _drain(self, worker: Worker) -> None:
        while worker.queued:
            if not self._send(worker, worker.queued[0]):
                asyncio.get_running_loop().call_later(DRAIN_EVERY, self._drain, worker)
                return
            worker.queued.popleft()


def worker_argv(argv: list[str]) -> Callable[[int, int], list[str]]:
    """The command of worker ``index`` (handoff socket ``fd``): this
    process's own ``courtroom serve`` arguments, with ``--worker``."""
    def command(index: int, fd: int) -> list[str]:
        return [sys.executable, "-m", "courtroom.cli", *argv, "--worker", f"{index}:{fd}:{os.getpid()}"]
    return command


def die_with_parent(parent: int) -> None:
    """Linux: this process gets SIGKILL when its parent (the front) dies, as
    it would have if they were one process."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the front died before we asked
        os._exit(1)

"""The hub's compositions: each hearing's video composed in a process of
its own, so the live hearings on this hub keep their core.

``DATA/compositions/HEARING/`` holds a composition's parts, its progress
and, when done, ``video.mp4``. While the hearing goes on, its media room
has each minute's part made once it lies ``AHEAD_MARGIN`` in the past (the
transcript, which says who is shown large, has caught up by then); at
闭庭 the rest is composed and the video finished. A composition that a
restart interrupted is started again by the next request and goes on from
its last whole part.
"""

from __future__ import annotations

import dataclasses
import fcntl
import logging
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from transcript.model import HearingInfo
from transcript.roles import ROLE_LABELS
from transcript.state import TranscriptState
from transcript.subtitles import Cue

from ..media.recording import recordings
from .compose import FINAL, Person, Plan, compose, compose_ahead, read_progress
from .sources import recorded_until
from .timeline import Speech

log = logging.getLogger(__name__)


#: The order of the strip: the bench, then each side, then the rest.
ORDER = ["judge", "mediator", "clerk", "plaintiff", "prosecutor", "defendant", "agent", "witness"]


def people_of(hearing: HearingInfo) -> list[Person]:
    """Who may appear, in the strip's order, labelled by role and name
    (and by role alone where masked)."""
    people = sorted(hearing.participants.values(),
                    key=lambda p: ORDER.index(p.role.value) if p.role.value in ORDER else len(ORDER))
    return [Person(p.participant_id, f"{ROLE_LABELS[p.role]} {p.name}", ROLE_LABELS[p.role]) for p in people]


def plan_of(state: TranscriptState, created_ms: int) -> dict[str, Any]:
    """What a composition needs from the hearing's record: who, who spoke
    when, the subtitles and the caption."""
    hearing = state.hearing
    assert hearing is not None
    segments = [s for s in state.segments
                if not s.deleted and s.start is not None and s.end is not None and s.text.strip()]
    return {
        "people": people_of(hearing),
        "speech": [Speech(s.speaker.participant_id, s.start, s.end) for s in segments],  # type: ignore[arg-type]
        "cues": [Cue(s.start, s.end, s.text, f"{ROLE_LABELS[s.speaker.role]}{s.speaker.name}")  # type: ignore[arg-type]
                 for s in segments],
        "caption": f"{hearing.case_number} {hearing.court}",
        "started": created_ms / 1000,
    }


def run(plan: Plan, folder: Path) -> str:
    """In the composing process: the plan's duration is read from the
    recordings themselves (to the end of the last one). One composition of
    a hearing at a time, whichever process or node asks (workers and
    cluster nodes share the folder): the others wait on the folder's lock
    and then find the video made."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if plan.duration <= 0:
            plan = dataclasses.replace(plan, duration=recorded_until(plan.recordings))
        return str(compose(plan, folder))


#: The composing process's niceness: below the hub and its live streams.
NICE = 10
#: Seconds a part must lie in the past before it is composed during the
#: hearing: long utterances' finals (who spoke when) have come in by then.
AHEAD_MARGIN = 45.0


def run_ahead(plan: Plan, folder: Path) -> str:
    """In the composing process, during the hearing: the whole parts so far."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return f"{compose_ahead(plan, folder)} parts"


class Compositions:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._pool: ProcessPoolExecutor | None = None
        #: hearing id → its job, and whether it finishes the video
        self._running: dict[str, tuple[Future[str], bool]] = {}
        #: The final composition asked for while a job ahead was running.
        self._pending: dict[str, Plan] = {}
        self._failed: dict[str, str] = {}

    def folder(self, hearing_id: str) -> Path:
        return self.root / hearing_id

    def video(self, hearing_id: str) -> Path | None:
        path = self.folder(hearing_id) / FINAL
        return path if path.exists() else None

    def status(self, hearing_id: str) -> dict[str, Any]:
        """``state``: done, composing or none; ``fraction`` done."""
        if self.video(hearing_id) is not None:
            return {"state": "done", "fraction": 1.0}
        if hearing_id in self._running:
            progress = read_progress(self.folder(hearing_id)) or {}
            return {"state": "composing", "fraction": progress.get("fraction", 0.0)}
        return {"state": "none", "fraction": 0.0}

    def take_failure(self, hearing_id: str) -> str | None:
        """Why the last composition of this hearing failed, once: the next
        request starts it again."""
        return self._failed.pop(hearing_id, None)

    def start(self, hearing_id: str, people: list[Person], recordings_folder: Path, **plan: Any) -> None:
        """Compose (or go on composing) this hearing's video unless it is
        already; after a job ahead that is running now, if one is.
        LookupError if nothing of it was recorded."""
        running = self._running.get(hearing_id)
        if (running is not None and running[1]) or self.video(hearing_id) is not None:
            return
        job = self._plan(people, recordings_folder, 0.0, plan)
        if running is not None:
            self._pending[hearing_id] = job
            return
        self._submit(hearing_id, job, final=True)

    def ahead(self, hearing_id: str, people: list[Person], recordings_folder: Path, upto: float,
              **plan: Any) -> None:
        """During the hearing: make the whole parts up to ``upto`` seconds,
        in the background, unless a job of this hearing is running."""
        if hearing_id in self._running or self.video(hearing_id) is not None:
            return
        try:
            job = self._plan(people, recordings_folder, upto, plan)
        except LookupError:
            return
        self._submit(hearing_id, job, final=False)

    @staticmethod
    def _plan(people: list[Person], recordings_folder: Path, duration: float, plan: dict[str, Any]) -> Plan:
        found = recordings(recordings_folder)
        if not found:
            raise LookupError("nothing of this hearing was recorded")
        shown = {r.participant_id for r in found}
        return Plan(people=[p for p in people if p.participant_id in shown], recordings=found, duration=duration,
                    **plan)

    def _submit(self, hearing_id: str, job: Plan, final: bool) -> None:
        if self._pool is None:
            # Spawned, not forked: the hub has threads and an event loop.
            # Niced: composing (x264 on every core it may have) gives way to
            # the hearings this machine is serving.
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=os.nice, initargs=(NICE,))
        future = self._pool.submit(run if final else run_ahead, job, self.folder(hearing_id))
        self._running[hearing_id] = (future, final)
        future.add_done_callback(lambda f: self._finished(hearing_id, f, final))

    def _finished(self, hearing_id: str, future: Future[str], final: bool) -> None:
        """(On the pool's thread.) A failure of the video is told once to
        the next request; one ahead is only logged (the video makes the
        parts itself). A video asked for meanwhile starts now."""
        self._running.pop(hearing_id, None)
        err = future.exception() if not future.cancelled() else None
        if err is not None:
            log.error("composing hearing %s failed: %s", hearing_id, err)
            if final:
                self._failed[hearing_id] = str(err)[:300]
        pending = self._pending.pop(hearing_id, None)
        if pending is not None and self._pool is not None:
            try:
                self._submit(hearing_id, pending, final=True)
            except RuntimeError:
                pass  # the hub is stopping: the next request starts it

    def close(self) -> None:
        """Stop composing now: the hub stops without waiting for a video,
        and the next request goes on from the last whole part."""
        if self._pool is not None:
            processes = list((getattr(self._pool, "_processes", None) or {}).values())
            for process in processes:
                process.terminate()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

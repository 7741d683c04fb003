"""Fuzzing a real hub: Hypothesis strategies for hostile websocket messages
and HTTP requests, a driver that plays them from every role of a hearing,
and the invariants that must hold afterwards. Shared by
tests/test_fuzz.py (bounded, in CI) and tests/bench/fuzz.py (as long as
you like).

The invariants:
* ``courtroom verify`` passes (chain, signed head, evidence files), and
  after a restart the hearing is served;
* a screen that sent nothing (the watcher) was never dropped, and saw
  exactly the committed events, in order, that a fresh screen sees;
* no HTTP request got a 500;
* the hub's memory stayed bounded.
"""

from __future__ import annotations

import asyncio
import json
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from hypothesis import strategies as st
from hypothesis.errors import HypothesisDeprecationWarning

from tests.support import ADMIN, Client, HubProcess
from transcript.state import OP_KINDS

ROLES = ("judge", "clerk", "plaintiff", "defendant", "agent", "prosecutor", "witness", "observer")
PEOPLE = [{"role": r, "name": f"{r}-人"} for r in ROLES] + [{"role": "witness", "name": "远程证人", "site": "remote"}]
#: The hub's own ids, as fuzzed ops may name them.
IDS = ["S1", "S2", "S3", "S9999", "A1", "A2", "E1", "E2", "", "s1", "S-1", "x" * 65]
NASTY = ["\ud800", "a\udc00b", "\x00", "\x01", "\x0b", "\ufffe", "\u202e", "<script>alert(1)</script>",
         "' OR 1=1 --", "\\", "\"", "𠀀𠀁", "\r\n", "  "]
FIELDS = ["text", "speaker", "start", "end", "after", "words", "segment_id", "base_rev", "offset", "next_rev",
          "style", "body", "color", "annotation_id", "image", "fingerprint", "participant_id", "muted", "sha256",
          "name", "media_type", "size", "evidence_id", "view", "terms", "token_hash", "kind", "__proto__"]
#: The driver's websocket client masks every frame with the global `random`
#: module (on the driver's own thread), which Hypothesis would otherwise
#: report as strategies using `random`; they do not.
warnings.filterwarnings("ignore", message="Do not use the `random` module", category=HypothesisDeprecationWarning)
STATUSES_OK = {200, 201, 202, 400, 401, 403, 404, 405, 408, 409, 413, 422, 429, 503, 507}


def texts() -> st.SearchStrategy[str]:
    return st.one_of(st.text(max_size=40), st.sampled_from(NASTY), st.text(alphabet="原告被告证据陈述。，", max_size=30),
                     st.builds(lambda n: "长" * n, st.integers(1000, 70_000)))


def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.integers(-2**63, 2**64),
                     st.floats(allow_nan=True, allow_infinity=True), texts(), st.sampled_from(IDS))


def values() -> st.SearchStrategy[Any]:
    return st.recursive(scalars(), lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                           st.dictionaries(st.sampled_from(FIELDS), inner,
                                                                           max_size=4)),
                        max_leaves=8)


@st.composite
def ops(draw: st.DrawFn, participant_ids: list[str]) -> dict[str, Any]:
    """An op of any kind: mostly plausible fields, sometimes hostile ones."""
    kind = draw(st.sampled_from(OP_KINDS + ("segment.explode", "")))
    op: dict[str, Any] = {"kind": kind}
    plausible = {
        "text": texts(), "body": texts(), "name": texts(),
        "segment_id": st.sampled_from(IDS), "annotation_id": st.sampled_from(IDS),
        "evidence_id": st.sampled_from(IDS), "after": st.sampled_from(IDS),
        "participant_id": st.sampled_from(participant_ids + IDS), "speaker": st.sampled_from(participant_ids + IDS),
        "base_rev": st.integers(0, 4), "next_rev": st.integers(0, 4), "offset": st.integers(-1, 30),
        "start": st.one_of(st.integers(0, 30), st.floats(-1, 1e9)), "end": st.one_of(st.integers(0, 30), st.floats(-1, 1e9)),
        "style": st.sampled_from(["highlight", "comment", "ink", "issue", "bold"]),
        "color": st.sampled_from(["yellow", "red", "black"]), "muted": st.booleans(),
        "view": st.sampled_from(["transcript", "evidence", "video", "desktop"]),
        "terms": st.lists(st.one_of(st.sampled_from(["质证", "诉讼请求"]), texts()), max_size=5),
        "words": st.lists(st.fixed_dictionaries({"word": texts(), "start": scalars(), "end": scalars(),
                                                  "conf": scalars()}), max_size=3),
        "image": st.sampled_from(["data:image/png;base64,iVBORw0KGgo=", "data:text/html,<b>", ""]),
        "sha256": st.sampled_from(["a" * 64, "A" * 64, "0"]), "media_type": st.sampled_from(["image/png", "text/html"]),
        "size": st.integers(-1, 10**9), "token_hash": st.sampled_from(["b" * 64, "x"]),
    }
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=5, unique=True)):
        op[name] = draw(plausible.get(name, values()) if draw(st.integers(0, 4)) else values())
    return op


@st.composite
def messages(draw: st.DrawFn, participant_ids: list[str]) -> str | bytes:
    """One websocket frame: an op, another message type, or junk."""
    choice = draw(st.integers(0, 9))
    if choice <= 5:
        msg: Any = {"type": "op", "op_id": draw(st.one_of(st.text(min_size=1, max_size=12), scalars())),
                    "op": draw(ops(participant_ids))}
    elif choice == 6:
        msg = {"type": draw(st.sampled_from(["sync", "partial", "rtc.join", "rtc.answer", "rtc.candidate",
                                             "rtc.leave", "dance", ""])),
               **draw(st.dictionaries(st.sampled_from(["since", "batch", "text", "audio", "video", "sdp",
                                                       "candidate"]), values(), max_size=3))}
    elif choice == 7:
        msg = draw(values())
    elif choice == 8:
        depth = draw(st.integers(30, 3000))
        return "[" * depth + "]" * depth
    else:
        return draw(st.one_of(st.binary(max_size=64), st.text(max_size=64)))
    return json.dumps(msg)  # ASCII escapes: lone surrogates travel as \ud800


@st.composite
def http_requests(draw: st.DrawFn, hearing_id: str, participant_ids: list[str]) -> dict[str, Any]:
    path = draw(st.sampled_from([
        "/api/hearings", f"/api/hearings/{hearing_id}/transcript", f"/api/hearings/{hearing_id}/export",
        f"/api/hearings/{hearing_id}/evidence", f"/api/hearings/{hearing_id}/evidence/E1",
        f"/api/hearings/{hearing_id}/vocabulary", f"/api/hearings/{hearing_id}/recording",
        f"/api/hearings/{hearing_id}/participants/{draw(st.sampled_from(participant_ids + IDS))}/invite",
        "/api/anchors", f"/hearings/{hearing_id}", "/static/hearing.js", "/static/../../etc/passwd",
        "/api/hearings/h-nope/transcript",
        # The case space and staff accounts: filing, reading, ops, entry, files, paperwork, sign-in.
        "/api/cases", "/api/cases/c-0123456789abcdef", "/api/cases/c-0123456789abcdef/events",
        "/api/cases/c-0123456789abcdef/ops", "/api/cases/c-0123456789abcdef/enter",
        "/api/cases/c-0123456789abcdef/hearings", "/api/cases/c-0123456789abcdef/evidence",
        f"/api/cases/c-0123456789abcdef/files/{'a' * 64}", "/api/cases/c-0123456789abcdef/parties/P1/notice",
        "/api/cases/c-0123456789abcdef/mediation/sessions", "/api/cases/nope/ops", "/c/c-0123456789abcdef",
        "/c/../../etc", "/console", "/api/staff", "/api/staff/judge1", "/api/login", "/api/logout", "/api/me"]))
    params = draw(st.dictionaries(st.sampled_from(["format", "name", "participant_id", "start", "end", "token",
                                                   "as", "since", "wait", "title", "party_id", "pages"]), st.one_of(texts(), st.sampled_from(["pdf", "docx", "0", "1e9"])),
                                  max_size=3))
    body = draw(st.one_of(st.none(), st.binary(max_size=200), values().map(lambda v: json.dumps(v).encode())))
    return {"method": draw(st.sampled_from(["GET", "POST", "DELETE", "PUT"])), "path": path, "params": params,
            "body": body, "who": draw(st.sampled_from(["admin", "none", "bad", *ROLES]))}


class Fuzzed(Client):
    """A fuzzing screen: it asks for replays of its own (fuzzed ``sync``
    messages), so it only counts what arrives; the watcher is the one held
    to "every event once, in order"."""

    def on_message(self, msg: dict[str, Any]) -> None:
        self.others.append(msg)


@dataclass
class Fuzzer:
    """A hearing on a real hub, a screen for every role, and a watcher that
    never sends; the asyncio side runs on a thread of its own, so that
    Hypothesis (synchronous) can hand it one batch at a time."""

    hub: HubProcess
    hearing: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def start(self) -> None:
        self.hearing = self.hub.create_hearing(PEOPLE, waiting_room=True)
        self.tokens = {i["participant_id"]: i["token"] for i in self.hearing["invites"]}
        self.roles = {i["participant_id"]: i["role"] for i in self.hearing["invites"]}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.clients: dict[str, Client] = {}
        self._call(self._setup())

    @property
    def participant_ids(self) -> list[str]:
        return list(self.tokens)

    def _call(self, coro: Any, timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _setup(self) -> None:
        clerk = next(pid for pid, r in self.roles.items() if r == "clerk")
        c = await Client.connect(self.hub.ws_url(self.hearing["hearing_id"], self.tokens[clerk]))
        for text in ("现在开庭。", "原告陈述诉讼请求。", "被告答辩。"):
            await c.op({"kind": "segment.add", "text": text})
        await c.close()
        # The watcher: an observer whose id no fuzzed op names (it is not in
        # the pool), so nothing a participant may do can remove it.
        observer = next(pid for pid, r in self.roles.items() if r == "observer")
        self.watcher = await Client.connect(self.hub.ws_url(self.hearing["hearing_id"], self.tokens.pop(observer)))

    async def _client(self, pid: str) -> Client | None:
        c = self.clients.get(pid)
        if c is not None and c.ws.state.name == "OPEN":
            return c
        try:
            c = await Fuzzed.connect(self.hub.ws_url(self.hearing["hearing_id"], self.tokens[pid]), sync=False)
        except (OSError, websockets.WebSocketException, asyncio.TimeoutError):
            return None
        if c.welcome.get("type") != "welcome":  # revoked by a fuzzed op of the judge: a new invite
            await c.close()
            r = httpx.post(f"{self.hub.url}/api/hearings/{self.hearing['hearing_id']}/participants/{pid}/invite",
                           headers={"Authorization": f"Bearer {ADMIN}"})
            if r.status_code == 200:
                self.tokens[pid] = r.json()["token"]
            return None
        self.clients[pid] = c
        return c

    async def _play(self, batch: list[tuple[str, str | bytes]]) -> None:
        for pid, frame in batch:
            c = await self._client(pid)
            if c is None:
                continue
            try:
                await c.ws.send(frame)
            except websockets.ConnectionClosed:
                pass
        await asyncio.sleep(0.05)

    def play(self, batch: list[tuple[int, str | bytes]]) -> None:
        ids = self.participant_ids
        self._call(self._play([(ids[k % len(ids)], frame) for k, frame in batch]))
        if self.watcher.ws.state.name != "OPEN":
            self.errors.append(f"the watcher was dropped: {self.watcher.ws.close_code} {self.watcher.ws.close_reason}")

    def request(self, req: dict[str, Any]) -> None:
        who = req["who"]
        token = {"admin": ADMIN, "none": None, "bad": "forged"}.get(
            who, next((t for pid, t in self.tokens.items() if self.roles[pid] == who), None))
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            r = httpx.request(req["method"], self.hub.url + req["path"], params=req["params"], content=req["body"],
                              headers=headers, timeout=30)
        except (httpx.InvalidURL, UnicodeEncodeError):
            return  # the client itself cannot send it: nothing reached the hub
        except httpx.HTTPError as err:
            self.errors.append(f"{req['method']} {req['path']}: {err!r}")
            return
        if r.status_code not in STATUSES_OK:
            self.errors.append(f"{req['method']} {req['path']} {req['params']} -> {r.status_code}: {r.text[:200]}")

    def finish(self) -> list[str]:
        """Close every screen; the invariants that failed (empty: all held)."""
        async def close() -> None:
            fresh = await Client.connect(self.hub.ws_url(self.hearing["hearing_id"], self.tokens[
                next(pid for pid, r in self.roles.items() if r == "judge")]))
            await self.watcher.wait_for(lambda: self.watcher.seq >= fresh.seq, timeout=30)
            if [e["event"] for e in self.watcher.events] != [e["event"] for e in fresh.events]:
                self.errors.append("the watcher's events differ from the log's")
            for c in [*self.clients.values(), self.watcher, fresh]:
                await c.close()
        try:
            self._call(close())
        except Exception as err:  # noqa: BLE001 - the invariant check itself failed
            self.errors.append(f"final check failed: {err!r}")
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
        r = self.hub.verify(self.hearing["hearing_id"])
        if r.returncode != 0:
            self.errors.append(f"courtroom verify: {r.stderr.strip()}")
        return self.errors


def rss_mb(hub: HubProcess) -> float:
    return hub.proc_total("VmRSS") / 1024


def batches(participant_ids: list[str]) -> st.SearchStrategy[list[tuple[int, str | bytes]]]:
    """Frames, each from one of the participants (by index)."""
    return st.lists(st.tuples(st.integers(0, len(participant_ids) - 1), messages(participant_ids)),
                    min_size=1, max_size=25)

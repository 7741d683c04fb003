"""``courtroom serve --workers N``: one address, N hub processes, each
hearing served by the worker that holds its lease."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import websockets

from storage import open_database
from storage.leases import Leases
from tests.support import ADMIN, Client, HubProcess, invites_by_role
from courtroom.workers.route import worker_of_node


def holders(hub: HubProcess, hearing_ids: list[str]) -> dict[str, int | None]:
    """Which worker holds each hearing's lease now."""
    leases = Leases(open_database(None, hub.data))
    try:
        found = leases.holders(hearing_ids)
        return {h: worker_of_node(found[h].node) if h in found else None for h in hearing_ids}
    finally:
        leases.db.close()


def worker_pid(hub: HubProcess, index: int) -> int:
    """The pid of worker ``index`` (its command line names it)."""
    for pid in hub.pids()[1:]:
        if f"--worker\0{index}:".encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    raise LookupError(f"no worker {index}")


@pytest.fixture
def hub(tmp_path: Path) -> HubProcess:
    hub = HubProcess(tmp_path / "data", args=["--workers", "2"]).start()
    yield hub
    hub.stop()


async def written(hub: HubProcess, hearing: dict, text: str) -> None:
    """A line written by the clerk reaches the judge's screen, both through the front."""
    inv = invites_by_role(hearing)
    judge = await Client.connect(hub.ws_url(hearing["hearing_id"], inv["judge"]["token"]))
    clerk = await Client.connect(hub.ws_url(hearing["hearing_id"], inv["clerk"]["token"]))
    answer = await clerk.op({"kind": "segment.add", "text": text})
    assert answer["type"] == "ack", answer
    await judge.wait_for(lambda: judge.seq >= answer["seq"])
    assert judge.events[-1]["event"]["segment"]["text"] == text
    await judge.close()
    await clerk.close()


def test_hearings_spread_over_the_workers_and_screens_reach_the_holder(hub: HubProcess) -> None:
    hearings = [hub.create_hearing() for _ in range(4)]
    ids = [h["hearing_id"] for h in hearings]
    held = holders(hub, ids)
    assert sorted(held.values()) == [0, 0, 1, 1], held  # creation takes turns

    async def main() -> None:
        for k, h in enumerate(hearings):
            await written(hub, h, f"第{k}句。")
    asyncio.run(main())
    assert holders(hub, ids) == held  # nobody else took them: every screen reached the holder

    # One kept-alive HTTP connection asks about hearings on both workers:
    # the worker it reached passes the other's requests on.
    with httpx.Client(base_url=hub.url) as client:
        for k, h in enumerate(hearings):
            token = invites_by_role(h)["judge"]["token"]
            r = client.get(f"/api/hearings/{h['hearing_id']}/transcript", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            assert [s["text"] for s in r.json()["segments"]] == [f"第{k}句。"]


def test_a_dead_worker_is_started_again_and_its_hearings_come_back(hub: HubProcess) -> None:
    hearings = [hub.create_hearing() for _ in range(4)]
    held = holders(hub, [h["hearing_id"] for h in hearings])
    victim = hearings[0]
    dead = held[victim["hearing_id"]]
    other = next(h for h in hearings if held[h["hearing_id"]] != dead)
    inv = invites_by_role(victim)

    async def main() -> None:
        clerk = await Client.connect(hub.ws_url(victim["hearing_id"], inv["clerk"]["token"]))
        acked = [await clerk.op({"kind": "segment.add", "text": f"第{k}句。"}) for k in range(5)]
        assert all(a["type"] == "ack" for a in acked)
        os.kill(worker_pid(hub, dead), signal.SIGKILL)
        killed = time.monotonic()
        await clerk.wait_for(lambda: False if clerk._reader is None else clerk._reader.done(), timeout=10)
        # The page reconnects until the hearing is served again.
        while True:
            assert time.monotonic() - killed < 15, "the hearing was not served again"
            try:
                again = await Client.connect(hub.ws_url(victim["hearing_id"], inv["clerk"]["token"]), sync=False)
            except (OSError, websockets.WebSocketException):
                await asyncio.sleep(0.2)
                continue
            if again.welcome.get("type") == "welcome":
                await again.sync()
                break
            # Until the dead worker's lease expires: "unavailable, try again".
            assert again.welcome["error"]["code"] == "unavailable", again.welcome
            await again.close()
            await asyncio.sleep(0.2)
        answer = await again.op({"kind": "segment.add", "text": "重启后。"})
        assert answer["type"] == "ack" and answer["seq"] > acked[-1]["seq"]
        assert [e["event"]["segment"]["text"] for e in again.events if e["event"]["kind"] == "segment.added"] \
            == [f"第{k}句。" for k in range(5)] + ["重启后。"]
        await again.close()
        # The other worker's hearing never stopped; the dead one runs again.
        await written(hub, other, "另一庭。")
    asyncio.run(main())
    deadline = time.monotonic() + 10
    while len(hub.pids()) < 3:
        assert time.monotonic() < deadline, "the worker was not started again"
        time.sleep(0.1)


def test_kill9_of_the_front_takes_the_workers_and_a_restart_serves_at_once(hub: HubProcess) -> None:
    hearing = hub.create_hearing()
    asyncio.run(written(hub, hearing, "第一句。"))
    workers = hub.pids()[1:]
    assert len(workers) == 2
    hub.kill()
    deadline = time.monotonic() + 5
    while any(Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
              for pid in workers):
        assert time.monotonic() < deadline, "workers outlived their front"
        time.sleep(0.05)
    hub.start()
    started = time.monotonic()
    asyncio.run(written(hub, hearing, "第二句。"))  # no wait for the dead workers' leases to expire
    assert time.monotonic() - started < 2.0
    token = invites_by_role(hearing)["judge"]["token"]
    assert [s["text"] for s in hub.transcript(hearing["hearing_id"], token)["segments"]] == ["第一句。", "第二句。"]


def test_bad_worker_counts_are_refused(tmp_path: Path) -> None:
    for option, problem in ((["--workers", "0"], "at least 1"),
                            (["--workers", "2", "--redis", "redis://127.0.0.1:1/0"], "cannot be combined"),
                            (["--worker", "x"], "set by the hub's front process")):
        r = subprocess.run([sys.executable, "-m", "courtroom.cli", "serve", "--data", str(tmp_path / "data"),
                            "--port", "0", "--admin-token", ADMIN, *option], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 2 and problem in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_second_hub_on_the_same_data_is_refused(hub: HubProcess) -> None:
    r = subprocess.run([sys.executable, "-m", "courtroom.cli", "serve", "--data", str(hub.data), "--port", "0",
                        "--admin-token", ADMIN, "--workers", "2"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "COURTROOM_SIGNING_KEY": str(hub.key)})
    assert r.returncode == 2 and "another hub is serving" in r.stderr, r.stderr
    asyncio.run(written(hub, hub.create_hearing(), "照常。"))  # the first goes on


def test_a_page_and_its_cookie_work_on_a_connection_the_other_worker_took(hub: HubProcess) -> None:
    """Browsers reuse connections: a request about a hearing can reach the
    worker that does not hold it, which passes it on with its Host (the
    same-origin check of the cookie sees what the browser sent) and keeps
    no cookie of its own for the next user."""
    hearing = hub.create_hearing()
    inv = invites_by_role(hearing)["defendant"]
    hid = hearing["hearing_id"]
    for first in range(2):  # one of the two connections is the other worker's
        with httpx.Client(base_url=hub.url) as browser:
            browser.get("/healthz")  # requests about no hearing take turns
            page = browser.get(f"/hearings/{hid}?token={inv['token']}")
            assert page.status_code == 200 and browser.cookies, page.headers
            upload = browser.post(f"/api/hearings/{hid}/evidence?name=x.jpg&as={inv['participant_id']}",
                                  content=b"not a photo", headers={"Origin": hub.url, "Content-Type": "image/jpeg"})
            assert upload.status_code == 400 and "photo" in upload.json()["error"]["message"], upload.text
    for first in range(2):
        with httpx.Client(base_url=hub.url) as stranger:
            stranger.get("/healthz")
            upload = stranger.post(f"/api/hearings/{hid}/evidence?name=x.jpg&as={inv['participant_id']}",
                                   content=b"not a photo", headers={"Origin": hub.url})
            assert upload.status_code == 401, upload.text


def test_the_case_list_shows_every_workers_cases_as_they_are_now(hub: HubProcess) -> None:
    """The staff console's list reads the cases the other worker holds from
    the log; kept from one look to the next, each look reads only what is
    new, and shows it."""
    from tests.test_case_api import STAFF, enter, file_case, op
    cases = [file_case(hub) for _ in range(4)]
    ids = [c["case_id"] for c in cases]
    assert sorted(holders(hub, ids).values()) == [0, 0, 1, 1]

    def listed() -> dict[str, dict]:
        r = httpx.get(hub.url + "/api/cases", headers=STAFF)
        assert r.status_code == 200, r.text
        return {c["case_id"]: c for c in r.json()["cases"] if c["case_id"] in ids}
    for _ in range(4):  # each worker answers in turn, about its own cases and the other's
        assert set(listed()) == set(ids)
    before = listed()
    for case in cases:
        phone = enter(hub, case, 0)
        assert op(phone, case["case_id"], {"kind": "message.post", "text": "请问何时开庭？"}).status_code == 200
    for _ in range(4):
        now = listed()
        for cid in ids:
            assert now[cid]["seq"] > before[cid]["seq"] and now[cid]["unread"] == 1, (cid, now[cid])


def test_listing_the_cases_takes_no_lease(tmp_path: Path) -> None:
    """After a restart nobody holds the cases: the list reads them without
    taking them, so each still goes to its own worker when it is used."""
    from tests.test_case_api import STAFF, file_case
    hub = HubProcess(tmp_path / "data", args=["--workers", "2"]).start()
    try:
        ids = [file_case(hub)["case_id"] for _ in range(4)]
        hub.stop()
        hub.start()
        assert set(holders(hub, ids).values()) == {None}
        for _ in range(4):
            r = httpx.get(hub.url + "/api/cases", headers=STAFF)
            assert r.status_code == 200 and {c["case_id"] for c in r.json()["cases"]} >= set(ids)
        assert set(holders(hub, ids).values()) == {None}
    finally:
        hub.stop()

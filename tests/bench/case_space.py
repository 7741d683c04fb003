"""A busy case space opened on a phone, in real Chromium.

    python -m tests.bench.case_space [--messages 500] [--evidence 200] [--loads 5]

A case with ``--messages`` messages in the party's conversation (half the
party's, half the judge's replies) and ``--evidence`` evidence items (real
uploads, each its own photo), all filed through the hub's HTTP API. Prints,
each beside a baseline measured in the same run on an empty case:

* the hub's answer to ``GET /api/cases/{id}`` for the party (median of 20);
* the phone page (390×844): navigation start → every message and every
  evidence item in the page, by the page's own clock (median of
  ``--loads`` loads).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image

from tests.browser.conftest import CHROMIUM, FLAGS
from tests.support import ADMIN, UNLIMITED, HubProcess

STAFF = {"Authorization": f"Bearer {ADMIN}"}
BODY = {"case_number": "(2026)苏0312民初1234号", "cause": "民间借贷纠纷", "court": "徐州市铜山区人民法院",
        "parties": [{"role": "plaintiff", "name": "张三", "id_number": "320312199001011234"},
                    {"role": "defendant", "name": "王五", "id_number": "32031219850202222X"}]}


def photo(n: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (n % 256, (n * 7) % 256, (n * 13) % 256)).save(out, format="PNG")
    return out.getvalue()


def new_case(hub: HubProcess, judge: httpx.Client) -> tuple[str, str]:
    """A case, its judge assigned, and the plaintiff's device session."""
    case = httpx.post(hub.url + "/api/cases", headers=STAFF, json=BODY).json()
    cid = case["case_id"]
    httpx.post(hub.url + f"/api/cases/{cid}/ops", headers=STAFF,
               json={"op": {"kind": "staff.assign", "role": "judge", "staff_id": "judge1", "name": "赵法官"}})
    link = case["parties"][0]["entry_url"].split("#k=")[1]
    session = httpx.post(hub.url + f"/api/cases/{cid}/enter",
                         json={"link": link, "name": "张三", "id_number": "320312199001011234"}).json()["session"]
    return cid, session


def fill(hub: HubProcess, cid: str, session: str, judge: httpx.Client, messages: int, evidence: int) -> None:
    party = httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {session}"}, timeout=30)
    party.post(f"/api/cases/{cid}/ops", json={"op": {"kind": "identity.check", "purpose": "exchange", "name": "张三",
                                                     "id_number": "320312199001011234"}})
    for i in range(messages):
        if i % 2 == 0:
            r = party.post(f"/api/cases/{cid}/ops", json={"op": {"kind": "message.post", "text": f"第{i}条：请问本案证据何时提交？"}})
        else:
            r = judge.post(f"/api/cases/{cid}/ops", json={"op": {"kind": "message.post", "thread": "P1",
                                                                 "text": f"第{i}条：请于举证期限内提交。"}})
        assert r.status_code == 200, r.text
    for i in range(evidence):
        r = party.post(f"/api/cases/{cid}/evidence", content=photo(i),
                       params={"name": f"证据{i}.png", "title": f"证据{i}", "source": "原告持有",
                               "purpose": "证明借款事实及还款情况", "pages": 1})
        assert r.status_code == 201, r.text


def api_median(hub: HubProcess, cid: str, session: str, n: int = 20) -> float:
    client = httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {session}"})
    times = []
    for _ in range(n):
        started = time.perf_counter()
        r = client.get(f"/api/cases/{cid}")
        assert r.status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def page_median(hub: HubProcess, cid: str, session: str, messages: int, evidence: int, loads: int) -> float:
    from playwright.async_api import async_playwright
    host = hub.url.split("//")[1].split(":")[0]
    times = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        for _ in range(loads):
            context = await browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
            await context.add_cookies([{"name": f"cs_{cid}", "value": session, "domain": host, "path": "/"}])
            page = await context.new_page()
            await page.goto(f"{hub.url}/c/{cid}")
            last_m = f"[data-message=M{messages}]" if messages else "#space"
            last_e = f"[data-evidence=E{evidence}]" if evidence else "#space"
            await page.locator(last_m).wait_for(state="attached", timeout=60_000)
            await page.locator(last_e).wait_for(state="attached", timeout=60_000)
            times.append(await page.evaluate("performance.now()"))
            await context.close()
        await browser.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--evidence", type=int, default=200)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        hub = HubProcess(Path(tmp) / "data", args=UNLIMITED).start()
        try:
            httpx.post(hub.url + "/api/staff", headers=STAFF, json={"staff_id": "judge1", "name": "赵法官",
                                                                     "role": "judge", "password": "correct horse 1"})
            session = httpx.post(hub.url + "/api/login", json={"staff_id": "judge1",
                                                               "password": "correct horse 1"}).json()["session"]
            judge = httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {session}"}, timeout=30)
            empty, empty_session = new_case(hub, judge)
            busy, busy_session = new_case(hub, judge)
            started = time.perf_counter()
            fill(hub, busy, busy_session, judge, args.messages, args.evidence)
            print(f"filled {args.messages} messages and {args.evidence} evidence uploads in "
                  f"{time.perf_counter() - started:.1f} s")
            api_empty, api_busy = api_median(hub, empty, empty_session), api_median(hub, busy, busy_session)
            print(f"GET /api/cases/{{id}} (party), median of 20: {api_busy:.1f} ms; empty case {api_empty:.1f} ms "
                  f"(ratio {api_busy / api_empty:.1f})")
            page_empty = asyncio.run(page_median(hub, empty, empty_session, 0, 0, args.loads))
            page_busy = asyncio.run(page_median(hub, busy, busy_session, args.messages, args.evidence, args.loads))
            print(f"phone page open → all {args.messages} messages and {args.evidence} evidence items in the page, "
                  f"median of {args.loads}: {page_busy:.0f} ms; empty case {page_empty:.0f} ms "
                  f"(ratio {page_busy / page_empty:.2f})")
        finally:
            hub.stop()


if __name__ == "__main__":
    main()

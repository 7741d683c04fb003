"""The seat screen under a 3-hour hearing, in real Chromium.

    python -m tests.bench.ui_load [--segments 3000] [--annotations 2000] [--round-trips 30]

* Time to first full render: navigation start → every segment and every
  mark in the page (the page's own clock), median of 3 loads: as the page
  opens a hearing (a snapshot of the state, then the events after it),
  against the same page made to replay every event (batched) instead, and
  the same page for an empty hearing, in the same run.
* The hub's side alone: websocket open → ``synced`` for a client asking
  for a snapshot, a batched replay and a plain replay (one message per
  event), median of 5.
* Scrolling: frame intervals while the transcript scrolls 200 px a frame
  for 2 s, p50/p99.
* Annotation round trip between two browsers: a comment made on one seat
  screen through the UI (select, 批注, type, 确定) — from its op leaving
  that page's websocket to the mark appearing in the other page's DOM, on
  the machine's one clock — p50/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.browser.conftest import CHROMIUM, FLAGS
from tests.browser.test_seat_screen import select
from tests.support import UNLIMITED, Client, HubProcess, invites_by_role

PEOPLE = [{"role": "judge", "name": "王法官"}, {"role": "clerk", "name": "李书记员"},
          {"role": "plaintiff", "name": "张三"}, {"role": "defendant", "name": "李四"}]
LINES = ["原告认为被告未按合同约定的期限交付货物，应当承担违约责任并赔偿损失。",
         "被告辩称货物已经按期交付，原告出具了收货确认单。", "审判长：双方对收货确认单的真实性有无异议？",
         "原告代理人：对真实性没有异议，但签收人并非原告员工。"]
SENT_HOOK = """
  window.__sent = {};
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    try { const m = JSON.parse(data); if (m.type === "op" && m.op.body) window.__sent[m.op.body] = performance.timeOrigin + performance.now(); } catch (e) {}
    return send.call(this, data);
  };
"""
SEEN_HOOK = """
  window.__seen = {};
  new MutationObserver(() => {
    for (const n of document.querySelectorAll('.note')) {
      const m = n.textContent.match(/rt-\\d+/);
      if (m && !(m[0] in window.__seen)) window.__seen[m[0]] = performance.timeOrigin + performance.now();
    }
  }).observe(document, {subtree: true, childList: true});
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def populate(hub: HubProcess, h: dict[str, Any], segments: int, annotations: int) -> None:
    """Pipelined ops, as a clerk and two parties would make them over 3 hours."""
    inv = invites_by_role(h)
    clerk = await Client.connect(hub.ws_url(h["hearing_id"], inv["clerk"]["token"]), sync=False)
    for k in range(segments):
        await clerk.send_op({"kind": "segment.add", "text": f"{LINES[k % len(LINES)]}（{k + 1}）",
                             "start": 3.6 * k, "end": 3.6 * k + 3.2})
    await clerk.wait_for(lambda: len(clerk.answers) == segments, timeout=120)
    rng = random.Random(7)
    parties = [await Client.connect(hub.ws_url(h["hearing_id"], inv[r]["token"]), sync=False)
               for r in ("plaintiff", "defendant")]
    for k in range(annotations):
        seg = rng.randrange(segments)
        start = rng.randrange(20)
        style = rng.choice(["highlight", "highlight", "comment", "issue"])
        op = {"kind": "annotation.add", "segment_id": f"S{seg + 1}", "start": start, "end": start + rng.randint(2, 6),
              "style": style, "color": rng.choice(["yellow", "green", "blue", "pink"])}
        if style == "comment":
            op["body"] = "与证据三不符"
        await parties[k % 2].send_op(op)
    for p in parties:
        await p.wait_for(lambda p=p: len(p.answers) == annotations // 2, timeout=120)
    for c in [clerk, *parties]:
        refused = [a for a in c.answers.values() if a["type"] != "ack"]
        assert not refused, refused[:3]
        await c.close()


#: Makes the page replay every event (batched) instead of asking for a
#: snapshot: the page as it was before snapshots, for the baseline.
REPLAY_HOOK = """
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    const m = JSON.parse(data);
    if (m.type === "snapshot") data = JSON.stringify({ type: "sync", since: 0, batch: true });
    return send.call(this, data);
  };
"""


async def full_render(context: Any, url: str, segments: int, init: str | None = None) -> tuple[float, float]:
    """(ready, full): ms from navigation until the end of the transcript
    (its last segment, where the hearing goes on) is on the screen and the
    page is live; and until every segment is in the page."""
    page = await context.new_page()
    if init:
        await page.add_init_script(init)
    await page.goto(url)
    last = f"#segments [data-segment-id=S{segments}]" if segments else "#segments"
    ready = await page.wait_for_function(
        f"() => document.querySelector('{last}') && document.getElementById('status').textContent === '已连接'"
        " && performance.now()", polling="raf", timeout=120_000)
    full = await page.wait_for_function(
        f"() => document.querySelectorAll('#segments [data-segment-id]').length === {segments}"
        " && performance.now()", polling="raf", timeout=120_000)
    times = (await ready.json_value(), await full.json_value())
    await page.close()
    return times


def medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


async def until_synced(url: str, first: dict[str, Any]) -> float:
    """Milliseconds from opening a websocket to ``synced``, everything read."""
    import json

    import websockets
    t0 = time.perf_counter()
    async with websockets.connect(url, max_size=2**26, compression=None) as ws:
        await ws.recv()
        await ws.send(json.dumps(first))
        while json.loads(await ws.recv())["type"] != "synced":
            pass
        return (time.perf_counter() - t0) * 1000


async def scrolling(page: Any) -> list[float]:
    return await page.evaluate("""() => new Promise(resolve => {
        const gaps = []; let last = performance.now(); const end = last + 2000;
        window.scrollTo(0, 0);
        function frame(now) {
            gaps.push(now - last); last = now; window.scrollBy(0, 200);
            if (now < end) requestAnimationFrame(frame); else resolve(gaps.slice(1));
        }
        requestAnimationFrame(frame);
    })""")


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--segments", type=int, default=3000)
    p.add_argument("--annotations", type=int, default=2000)
    p.add_argument("--round-trips", type=int, default=30)
    args = p.parse_args()
    from playwright.async_api import async_playwright
    with tempfile.TemporaryDirectory() as tmp:
        hub = HubProcess(Path(tmp) / "data", args=UNLIMITED).start()
        try:
            empty = hub.create_hearing(PEOPLE)
            h = hub.create_hearing(PEOPLE)
            t0 = time.monotonic()
            await populate(hub, h, args.segments, args.annotations)
            print(f"ui_load: {args.segments} segments and {args.annotations} annotations written in "
                  f"{time.monotonic() - t0:.1f} s")
            inv = invites_by_role(h)
            url = hub.ws_url(h["hearing_id"], inv["plaintiff"]["token"])
            hub_side = {name: statistics.median([await until_synced(url, first) for _ in range(5)])
                        for name, first in (("snapshot", {"type": "snapshot", "batch": True}),
                                            ("batched", {"type": "sync", "since": 0, "batch": True}),
                                            ("plain", {"type": "sync", "since": 0}))}
            print("  websocket open → synced: " + ", ".join(f"{k} {v:.0f} ms" for k, v in hub_side.items())
                  + f" (snapshot/plain {hub_side['snapshot'] / hub_side['plain']:.2f})")
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
                context = await browser.new_context(viewport={"width": 1920, "height": 1080})
                base, _ = medians([await full_render(context, invites_by_role(empty)["plaintiff"]["join_url"], 0)
                                   for _ in range(5)])
                ready, full = medians([await full_render(context, inv["plaintiff"]["join_url"], args.segments)
                                       for _ in range(5)])
                old_ready, old_full = medians([await full_render(context, inv["plaintiff"]["join_url"],
                                                                 args.segments, REPLAY_HOOK) for _ in range(5)])
                print(f"  a new screen opening the 3-hour hearing (median of 5): shows its end, live, in "
                      f"{ready:.0f} ms with a snapshot against {old_ready:.0f} ms replaying every event "
                      f"(ratio {ready / old_ready:.2f}); every segment in the page {full:.0f} ms against "
                      f"{old_full:.0f} ms; the same page for an empty hearing: {base:.0f} ms")

                seat = await context.new_page()
                await seat.add_init_script(SENT_HOOK)
                other_browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
                other = await (await other_browser.new_context(viewport={"width": 390, "height": 844})).new_page()
                await other.add_init_script(SEEN_HOOK)
                for page, role in ((seat, "plaintiff"), (other, "defendant")):
                    await page.goto(inv[role]["join_url"])
                    await page.wait_for_function(
                        f"() => document.querySelectorAll('#segments [data-segment-id]').length === {args.segments}",
                        timeout=120_000)
                gaps = await scrolling(seat)
                print(f"  scrolling the whole transcript: frame interval p50 {percentile(gaps, .5):.1f} ms, "
                      f"p99 {percentile(gaps, .99):.1f} ms over {len(gaps)} frames")
                await seat.evaluate("() => window.scrollTo(0, 0)")
                trips = []
                for k in range(args.round_trips):
                    key = f"rt-{k}"
                    await select(seat, "S1", 2 + k % 10, 4 + k % 10)
                    await seat.locator("#marker [data-style=comment]").click()
                    await seat.locator("#marker input").fill(key)
                    await seat.locator("#marker form button").click()
                    await other.wait_for_function(f"() => '{key}' in window.__seen", timeout=10_000)
                    sent = await seat.evaluate(f"() => window.__sent['{key}']")
                    seen = await other.evaluate(f"() => window.__seen['{key}']")
                    trips.append(seen - sent)
                print(f"  annotation round trip between two browsers (UI op sent → mark in the other page): "
                      f"p50 {percentile(trips, .5):.0f} ms, p99 {percentile(trips, .99):.0f} ms over {len(trips)}")
                await other_browser.close()
                await browser.close()
        finally:
            hub.stop()


if __name__ == "__main__":
    asyncio.run(main())

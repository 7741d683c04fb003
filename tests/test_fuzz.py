"""The fuzz suite in CI: random and mutated messages from every role of a
hearing, and random HTTP requests, against a real hub, bounded in time
(``COURTROOM_FUZZ_EXAMPLES``, default 40 batches); tests/bench/fuzz.py runs
the same for longer."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.fuzzing import Fuzzer, batches, http_requests, rss_mb
from tests.support import HubProcess, invites_by_role

EXAMPLES = int(os.environ.get("COURTROOM_FUZZ_EXAMPLES", "40"))


def test_fuzzing_every_role_keeps_the_invariants(tmp_path: Path) -> None:
    hub = HubProcess(tmp_path / "data").start()
    try:
        fuzzer = Fuzzer(hub)
        fuzzer.start()
        hid = fuzzer.hearing["hearing_id"]
        before = rss_mb(hub)

        @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(batches(fuzzer.participant_ids), st.lists(http_requests(hid, fuzzer.participant_ids), max_size=3))
        def one(batch: list, requests: list) -> None:  # type: ignore[type-arg]
            fuzzer.play(batch)
            for request in requests:
                fuzzer.request(request)

        one()
        grown = rss_mb(hub) - before
        errors = fuzzer.finish()
        assert not errors, "\n".join(errors)
        assert grown < 150, f"the hub grew by {grown:.0f} MB"
        hub.stop()
        hub.start()
        judge = invites_by_role(fuzzer.hearing)["judge"]
        token = fuzzer.tokens.get(judge["participant_id"], judge["token"])
        assert httpx.get(f"{hub.url}/api/hearings/{hid}/transcript",
                         headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        hub.stop()

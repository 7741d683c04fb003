"""The fuzz suite for as long as you like, against a real hub.

    python -m tests.bench.fuzz [--batches 5000]

The same strategies and invariants as tests/test_fuzz.py (which runs 40
batches in CI). Prints what was sent, the hub's memory before and after,
how long it took, and every invariant that failed (none: exit 0).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.fuzzing import Fuzzer, batches, http_requests, rss_mb
from tests.support import HubProcess


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batches", type=int, default=5000, help="batches of up to 25 frames (and 3 HTTP requests)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        hub = HubProcess(Path(tmp) / "data").start()
        try:
            fuzzer = Fuzzer(hub)
            fuzzer.start()
            before, started, counts = rss_mb(hub), time.monotonic(), [0, 0]

            @settings(max_examples=args.batches, deadline=None, database=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(batches(fuzzer.participant_ids),
                   st.lists(http_requests(fuzzer.hearing["hearing_id"], fuzzer.participant_ids), max_size=3))
            def one(batch: list, requests: list) -> None:  # type: ignore[type-arg]
                fuzzer.play(batch)
                for request in requests:
                    fuzzer.request(request)
                counts[0] += len(batch)
                counts[1] += len(requests)

            one()
            after = rss_mb(hub)
            errors = fuzzer.finish()
        finally:
            hub.stop()
    print(f"fuzz: {counts[0]} websocket frames and {counts[1]} HTTP requests from every role in "
          f"{time.monotonic() - started:.0f} s; hub memory {before:.0f} -> {after:.0f} MB")
    for error in errors:
        print(f"  FAILED: {error}")
    print("  every invariant held" if not errors else f"  {len(errors)} invariant(s) failed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

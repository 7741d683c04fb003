"""Which worker a connection goes to, from its request line alone."""

from __future__ import annotations

from collections import Counter

from courtroom.workers.route import Head, choose, home_of, is_home, node_id, read_head, stream_of, worker_of_node

H = "h-0123456789abcdef"
C = "c-fedcba9876543210"


def test_the_request_line_is_read_once_complete() -> None:
    assert read_head(b"GET /ws/hearings/" + H.encode()) == Head(None, False)
    assert read_head(b"GET /ws/hearings/" + H.encode() + b"?token=x HTTP/1.1\r\nHost: a\r\n") == \
        Head(f"/ws/hearings/{H}?token=x", True)
    assert read_head(b"\x16\x03\x01 not http\r\n") == Head(None, True)  # e.g. TLS: any worker answers
    assert read_head(b"G" * 9000) == Head(None, True)  # never waited for without end


def test_the_stream_a_target_is_about() -> None:
    for target in (f"/ws/hearings/{H}?token=x", f"/hearings/{H}", f"/hearings/{H}?as=p-1",
                   f"/api/hearings/{H}/transcript", f"/api/hearings/{H}", f"/api/cases/{C}/evidence/e-1",
                   f"/ws/cases/{C}"):
        assert stream_of(target) in (H, C), target
    for target in ("/", "/healthz", "/api/hearings", "/api/cases", "/static/app.js", f"/hearings/{H}x",
                   "/api/hearings/h-XYZ/transcript", None, ""):
        assert stream_of(target) is None, target


def test_node_ids_name_their_worker() -> None:
    assert worker_of_node(node_id(3, 1234, "abcdef")) == 3
    assert worker_of_node("courthouse-1-1234-abcdef") is None  # a cluster node's


def test_a_stream_goes_to_its_holder_else_its_home_else_the_next_live_worker() -> None:
    home = home_of(H, 4)
    other = (home + 1) % 4
    assert choose(H, other, [True] * 4, 0) == other
    assert choose(H, None, [True] * 4, 7) == home
    live = [True] * 4
    live[home] = False
    assert choose(H, None, live, 0) == (home + 1) % 4
    assert choose(H, home, live, 0) == (home + 1) % 4  # its holder is down
    assert choose(H, None, [False] * 4, 0) is None


def test_exactly_one_worker_is_a_streams_home_the_one_the_front_sends_it_to() -> None:
    for k in range(50):
        stream = f"h-{k:016x}"
        homes = [index for index in range(3) if is_home(stream, index, 3)]
        assert homes == [choose(stream, None, [True] * 3, k)]


def test_requests_about_no_stream_take_turns_and_streams_spread() -> None:
    assert [choose(None, None, [True, True, True], t) for t in range(6)] == [0, 1, 2, 0, 1, 2]
    assert choose(None, None, [False, True, False], 0) == 1
    homes = Counter(home_of(f"h-{k:016x}", 2) for k in range(1000))
    assert min(homes.values()) > 400

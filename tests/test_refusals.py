"""What the room remembers of refused ops, per participant and bounded."""

from __future__ import annotations

from courtroom.refusals import MAX_ONE, Refusals


def test_a_resent_op_id_finds_its_refusal() -> None:
    r = Refusals()
    r.add("p-1", "a", {"code": "invalid", "message": "no"})
    assert r.get("p-1", "a") == {"code": "invalid", "message": "no"}
    assert r.get("p-2", "a") is None and r.get("p-1", "b") is None


def test_one_participant_cannot_push_out_another_or_grow_without_bound() -> None:
    r = Refusals(max_count=100, max_bytes=10_000)
    r.add("p-quiet", "mine", {"code": "forbidden", "message": "no"})
    for n in range(5_000):
        r.add("p-flood", f"op-{n}", {"code": "invalid", "message": "x" * 50})
    assert r.get("p-quiet", "mine") is not None
    assert r.get("p-flood", "op-4999") is not None and r.get("p-flood", "op-0") is None
    assert r.bytes_held() <= 10_000 + 100


def test_a_large_refusal_is_kept_without_its_details() -> None:
    r = Refusals()
    r.add("p-1", "c", {"code": "conflict", "message": "changed", "segment": {"text": "长" * MAX_ONE}})
    assert r.get("p-1", "c") == {"code": "conflict", "message": "changed"}

"""The storage port's contract, held by both backends alike: SQLite (the
embedded default) and PostgreSQL (a private server the tests start)."""

from __future__ import annotations

from pathlib import Path
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from storage import Store, StorageError, open_database
from storage.accounts import AccountError, SignInRefused, LOCK_AFTER
from storage.database import Database
from storage.log import LogStore
from transcript.heads import Signer
from transcript.log import GENESIS_HASH, LogEntry, make_entry


def chain(stream_id: str, n: int, start: int = 1, prev: str = GENESIS_HASH) -> list[LogEntry]:
    out = []
    for seq in range(start, start + n):
        entry = make_entry(prev, stream_id, seq, "p-1", f"op{seq}", 1_700_000_000_000 + seq,
                           {"kind": "segment.add", "text": f"第{seq}句：原告陈述。"}, {"kind": "x", "seq": seq})
        out.append(entry)
        prev = entry.hash
    return out


def test_entries_come_back_as_written(db: Database) -> None:
    log = LogStore(db)
    entries = chain("h-a", 5)
    log.append(entries[:2])
    log.append(entries[2:])
    assert list(log.entries("h-a")) == entries
    assert list(log.entries("h-a", after=3)) == entries[3:]
    assert list(log.entries("h-none")) == []


def test_a_batch_is_all_or_nothing(db: Database) -> None:
    """A batch that cannot be written (here a seq taken already) leaves
    nothing behind: none of its entries, nothing its ``also`` wrote."""
    store = Store.on(db)
    store.log.append(chain("h-a", 2))
    clash = chain("h-b", 1) + chain("h-a", 1, start=2, prev=chain("h-a", 1)[0].hash)

    def also() -> None:
        store.invites.insert("h-b", [("p-1", "token-b")])
    with pytest.raises(Exception):
        store.log.append(clash, also)
    assert list(store.log.entries("h-b")) == []
    assert store.invites.lookup("h-b", "token-b") is None
    assert len(list(store.log.entries("h-a"))) == 2


def test_an_op_id_is_logged_once(db: Database) -> None:
    log = LogStore(db)
    first = chain("h-a", 1)[0]
    log.append([first])
    again = make_entry(first.hash, "h-a", 2, first.participant_id, first.op_id, first.ts_ms, first.op, first.event)
    with pytest.raises(Exception):
        log.append([again])


def test_streams_by_kind_oldest_first(db: Database) -> None:
    log = LogStore(db)
    for stream_id, ts in (("c-2", 30), ("h-1", 10), ("c-1", 20), ("cx", 5)):
        log.append([make_entry(GENESIS_HASH, stream_id, 1, "system", "create", ts, {}, {})])
    assert log.stream_ids("c-") == ["c-1", "c-2"]
    assert log.stream_ids("h-") == ["h-1"]


def test_heads_are_replaced_not_added(db: Database) -> None:
    log = LogStore(db)
    signer = Signer(Ed25519PrivateKey.generate())
    entries = chain("h-a", 3)
    log.append(entries[:1], lambda: log.put_heads([signer.sign("h-a", 1, entries[0].hash, 1)]))
    log.append(entries[1:], lambda: log.put_heads([signer.sign("h-a", 3, entries[2].hash, 3)]))
    head = log.head("h-a")
    assert head is not None and head.seq == 3 and head.verify([signer.public])
    assert [h.hearing_id for h in log.heads()] == ["h-a"]
    assert log.head("h-none") is None


def test_invites_follow_the_log(db: Database) -> None:
    store = Store.on(db)
    store.invites.insert("h-a", [("p-1", "old-token")])
    assert store.invites.lookup("h-a", "old-token") == "p-1"
    assert store.invites.lookup("h-other", "old-token") is None
    reissued = make_entry(GENESIS_HASH, "h-a", 1, "p-judge", "r1", 1, {"token_hash": "f" * 64},
                          {"kind": "invite.reissued", "participant": {"participant_id": "p-1"}})
    store.log.append([reissued], lambda: store.invites.follow([reissued]))
    assert store.invites.lookup("h-a", "old-token") is None
    assert store.invites.admin_hash() is None
    store.invites.set_admin_hash("a" * 64)
    store.invites.set_admin_hash("b" * 64)
    assert store.invites.admin_hash() == "b" * 64


def test_case_links_and_devices(db: Database) -> None:
    store = Store.on(db)
    links = store.case_links
    with db.transaction():
        tokens = links.issue("c-a", ["pa", "pb"])
    assert links.party_of_link("c-a", tokens["pa"]) == "pa"
    new = links.reissue("c-a", "pa")
    assert links.party_of_link("c-a", tokens["pa"]) is None
    assert links.party_of_link("c-a", new) == "pa"
    session = links.sign_in("c-a", "pb")
    assert links.party_of_device("c-a", session) == "pb"
    closed = make_entry(GENESIS_HASH, "c-a", 1, "system", "close", 5, {}, {"kind": "case.closed"})
    links.follow([closed])
    assert links.party_of_device("c-a", session) is None


def test_equipment(db: Database) -> None:
    store = Store.on(db)
    device, token = store.equipment.issue("第一法庭", "庭审主机", "admin")
    assert store.equipment.lookup(token) == device
    revoked = store.equipment.revoke(device.device_id, "admin")
    assert revoked is not None and revoked.revoked_ms is not None
    assert store.equipment.lookup(token) is None
    assert [h["action"] for h in store.equipment.history()] == ["issued", "revoked"]
    with db.transaction():
        store.equipment.place("h-1", "第一法庭", 1)
        store.equipment.place("h-2", "第一法庭", 2)
    assert store.equipment.hearings_in("第一法庭") == ["h-2", "h-1"]


def test_accounts(db: Database) -> None:
    accounts = Store.on(db).accounts
    accounts.create("wang", "王法官", "judge", "correct horse battery")
    with pytest.raises(AccountError):
        accounts.create("wang", "王法官", "judge", "correct horse battery")
    account, session = accounts.sign_in("wang", "correct horse battery")
    assert accounts.session(session) == account
    for _ in range(LOCK_AFTER):
        with pytest.raises(SignInRefused):
            accounts.sign_in("wang", "wrong password!")
    with pytest.raises(SignInRefused) as refused:
        accounts.sign_in("wang", "correct horse battery")
    assert refused.value.retry_after > 0
    assert accounts.disable("wang") and not accounts.disable("wang")
    assert accounts.session(session) is None
    with pytest.raises(AccountError):
        accounts.set_password("nobody", "a long enough password")


def test_a_rolled_back_transaction_leaves_nothing(db: Database) -> None:
    store = Store.on(db)
    with pytest.raises(RuntimeError):
        with db.transaction():
            store.invites.insert("h-a", [("p-1", "t")])
            raise RuntimeError("abandon")
    assert store.invites.lookup("h-a", "t") is None


def test_unknown_database_urls_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="postgresql://"):
        open_database("mysql://court/db", tmp_path)


def test_an_unreachable_server_is_a_clear_error_without_the_password(tmp_path: Path) -> None:
    from tests.support import free_port
    with pytest.raises(StorageError) as err:
        open_database(f"postgresql://court:s3cret@127.0.0.1:{free_port()}/courtroom", tmp_path)
    assert "cannot connect to PostgreSQL" in str(err.value) and "s3cret" not in str(err.value)


def test_a_read_only_postgresql_session_refuses_writes(postgres: str, tmp_path: Path) -> None:
    LogStore(open_database(postgres, tmp_path))
    reader = LogStore(open_database(postgres, tmp_path, readonly=True), create=False)
    with pytest.raises(Exception, match="read-only"):
        reader.append(chain("h-a", 1))

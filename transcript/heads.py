"""Signed heads: the hub's signature on where each hearing's log ends.

The hash chain shows any change to stored entries, but not the loss of the
newest ones (the lock, the signatures), and anyone who can write the
database can rewrite text and compute the chain anew. So the hub signs the
head of a hearing's log (its last seq and hash) with an Ed25519 key kept
outside the data directory, in the same transaction that commits the
entries. A log that does not end exactly at a head signed by the court's
key has been cut or rewritten.

A signed head copied out of the hub (an *anchor*, archived by the court)
also catches the one change the signature alone cannot: a database put
back to an older state, old signed head and all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .canonical import canonical_json


def key_id(public: Ed25519PublicKey) -> str:
    """A short name for a public key: the start of its raw bytes' SHA-256."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class SignedHead:
    hearing_id: str
    seq: int
    hash: str
    ts_ms: int
    key_id: str
    signature: str  # hex

    def message(self) -> bytes:
        return canonical_json({"hearing_id": self.hearing_id, "seq": self.seq, "hash": self.hash,
                               "ts_ms": self.ts_ms}).encode("utf-8")

    def verify(self, keys: Iterable[Ed25519PublicKey]) -> bool:
        """Whether one of ``keys`` (the court's, current and past) signed it."""
        for public in keys:
            if key_id(public) != self.key_id:
                continue
            try:
                public.verify(bytes.fromhex(self.signature), self.message())
                return True
            except (InvalidSignature, ValueError):
                return False
        return False

    def to_dict(self) -> dict[str, Any]:
        return {"hearing_id": self.hearing_id, "seq": self.seq, "hash": self.hash, "ts_ms": self.ts_ms,
                "key_id": self.key_id, "signature": self.signature}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SignedHead:
        return cls(str(d["hearing_id"]), int(d["seq"]), str(d["hash"]), int(d["ts_ms"]), str(d["key_id"]),
                   str(d["signature"]))


class Signer:
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self.key = key
        self.public = key.public_key()
        self.key_id = key_id(self.public)

    def sign(self, hearing_id: str, seq: int, hash: str, ts_ms: int) -> SignedHead:
        unsigned = SignedHead(hearing_id, seq, hash, ts_ms, self.key_id, "")
        return SignedHead(hearing_id, seq, hash, ts_ms, self.key_id, self.key.sign(unsigned.message()).hex())


def check_head(head: SignedHead | None, last_seq: int, last_hash: str,
               keys: Iterable[Ed25519PublicKey]) -> str | None:
    """Why a log ending at ``last_seq`` / ``last_hash`` does not match its
    signed head, or None if it does."""
    if head is None:
        return "the log has no signed head (entries written without the hub, or its head was deleted)"
    if not head.verify(keys):
        return f"the signed head (key {head.key_id}) does not verify with the court's key"
    if head.seq > last_seq:
        return f"entries {last_seq + 1} to {head.seq} are missing (the signed head is at seq {head.seq})"
    if head.seq < last_seq:
        return f"entries after seq {head.seq} were written without the hub (the signed head is at seq {head.seq})"
    if head.hash != last_hash:
        return f"the log was rewritten: entry {head.seq} does not have the signed hash"
    return None

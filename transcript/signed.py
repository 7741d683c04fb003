"""A signed document: content frozen under its hash, and the signatures
bound to that hash. The locked 笔录 is one (the judge freezes it, each
party signs it); a mediation agreement will be another. Signing needs the
content frozen, and each signer signs once; every signature carries the
hash of what it signs, so a signature can never be moved to other content.
"""

from __future__ import annotations

from .errors import OpError
from .model import Participant, Signature


class SignedDocument:
    def __init__(self) -> None:
        #: The hash of the content, once frozen; None while it may change.
        self.content_hash: str | None = None
        self.signatures: dict[str, Signature] = {}

    @property
    def frozen(self) -> bool:
        return self.content_hash is not None

    def freeze(self, content_hash: str) -> None:
        if self.frozen:
            raise OpError("conflict", "already frozen")
        self.content_hash = content_hash

    def sign(self, signer: Participant, image: str | None, fingerprint: str | None,
             not_yet: str = "the document can be signed only once it is final") -> Signature:
        """``signer``'s signature (a drawn image and/or a fingerprint) on the
        frozen content; ``not_yet`` is the refusal while it is not frozen."""
        if self.content_hash is None:
            raise OpError("invalid", not_yet)
        if signer.participant_id in self.signatures:
            raise OpError("conflict", "already signed")
        signature = Signature(signer, self.content_hash, image, fingerprint)
        self.signatures[signer.participant_id] = signature
        return signature

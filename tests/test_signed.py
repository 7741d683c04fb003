"""A signed document: signed only once frozen, once per signer, each
signature bound to the frozen content's hash."""

from __future__ import annotations

import pytest

from transcript.errors import OpError
from transcript.model import Participant
from transcript.roles import Role
from transcript.signed import SignedDocument

PNG = "data:image/png;base64,iVBORw0KGgo="


def test_signed_only_once_frozen_once_each_bound_to_the_hash() -> None:
    doc = SignedDocument()
    party = Participant("p-1", Role.PLAINTIFF, "张三")
    with pytest.raises(OpError) as err:
        doc.sign(party, PNG, None, "not final yet")
    assert err.value.code == "invalid" and str(err.value) == "not final yet" and not doc.signatures
    doc.freeze("a" * 64)
    assert doc.frozen
    signature = doc.sign(party, PNG, None)
    assert signature.transcript_hash == "a" * 64 and doc.signatures == {"p-1": signature}
    with pytest.raises(OpError) as err:
        doc.sign(party, None, PNG)
    assert err.value.code == "conflict"
    with pytest.raises(OpError):
        doc.freeze("b" * 64)  # frozen content stays as signed
    assert doc.content_hash == "a" * 64

"""Evidence files: checked by their content, stored durably under their
SHA-256 before the log mentions them, served back as what they are."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .durable import fsync_path


def sniff(data: bytes) -> str | None:
    """The media type the bytes really are, if it is one evidence may be."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


class EvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, hearing_id: str, sha256: str) -> Path:
        return self.root / hearing_id / sha256

    def save(self, hearing_id: str, data: bytes) -> str:
        """Write the file and fsync it (and its folder) before returning its
        SHA-256: an acknowledged upload survives a crash."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(hearing_id, sha)
        if target.exists():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        fsync_path(target.parent)
        return sha

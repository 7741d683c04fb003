"""Evidence files: checked by their content, stored durably under their
SHA-256 before the log mentions them, served back as what they are.

An upload streams into a temporary file of its own (so two uploads of one
file never share a name) while it is hashed; only a complete, recognized
file is fsync'd and renamed to its SHA-256. Every way an upload can fail
(too large, not a photo or PDF, the client gone, the disk full, the op
refused) leaves nothing behind. Files are read back only if they still
hash to what the log says.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import AsyncIterator

from .durable import fsync_path

#: Bytes gathered in memory before they are written out (off the event loop).
WRITE_EVERY = 1024 * 1024
#: Errors that mean the disk cannot take the file.
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


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


class UploadError(Exception):
    """An upload cannot be stored: ``status`` and ``code`` for the answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class Stored:
    """A file stored under its hash, held against clean-up until released."""

    def __init__(self, sha256: str, size: int, media_type: str) -> None:
        self.sha256 = sha256
        self.size = size
        self.media_type = media_type


class EvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        #: Stored files whose evidence.add is not decided yet, by (hearing, sha).
        self._held: Counter[tuple[str, str]] = Counter()
        self._verified: dict[Path, tuple[int, int, int]] = {}

    def sweep(self) -> int:
        """Remove uploads that a killed hub left half-written (their temp
        files); at start, before any upload runs. How many were removed."""
        removed = 0
        for part in self.root.glob("*/.upload-*.part"):
            part.unlink(missing_ok=True)
            removed += 1
        return removed

    def path(self, hearing_id: str, sha256: str) -> Path:
        return self.root / hearing_id / sha256

    async def receive(self, hearing_id: str, chunks: AsyncIterator[bytes], limit: int) -> Stored:
        """Store a streamed upload; fsync'd (file and folder) before it
        returns, so an acknowledged upload survives a crash. The caller
        releases the result once its op is decided."""
        folder = self.root / hearing_id
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as f:
                sha, size, head = hashlib.sha256(), 0, b""
                pending: list[bytes] = []
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise UploadError(413, "too_large", f"evidence is limited to {limit} bytes")
                    if len(head) < 16:
                        head += chunk[:16]
                    sha.update(chunk)
                    pending.append(chunk)
                    if sum(map(len, pending)) >= WRITE_EVERY:
                        await asyncio.to_thread(f.write, b"".join(pending))
                        pending = []
                media_type = sniff(head)
                if media_type is None:
                    raise UploadError(400, "invalid", "evidence must be a photo (JPEG, PNG, WebP) or a PDF "
                                      "document; this file is neither")
                await asyncio.to_thread(_finish, f, b"".join(pending))
            digest = sha.hexdigest()
            stored = Stored(digest, size, media_type)
            # Held before it is placed: a refused upload of the same file
            # must not remove it meanwhile.
            self._held[(hearing_id, digest)] += 1
            try:
                await asyncio.to_thread(_place, tmp, self.path(hearing_id, digest))
            except BaseException:
                self.release(hearing_id, stored, referenced=True)
                raise
            return stored
        except OSError as err:
            if err.errno in DISK_FULL:
                raise UploadError(507, "insufficient_storage", "the hub's disk is full; the upload was not "
                                  "stored (tell the court's IT staff)") from None
            raise
        finally:
            tmp.unlink(missing_ok=True)

    def adopt(self, from_id: str, to_id: str, sha256: str) -> None:
        """Give stream ``to_id`` its own durable copy of a file ``from_id``
        holds (a case's evidence, shown in its hearing): a hard link where
        the file system allows, else a copy, fsync'd either way."""
        target = self.path(to_id, sha256)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=target.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            tmp.unlink()
            try:
                os.link(self.path(from_id, sha256), tmp)
            except OSError:
                shutil.copyfile(self.path(from_id, sha256), tmp)
                with open(tmp, "rb+") as f:
                    os.fsync(f.fileno())
            _place(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def release(self, hearing_id: str, stored: Stored, referenced: bool) -> None:
        """The upload's op is decided. A file that no evidence item refers to
        (the op was refused) is removed, unless another upload of the same
        file is still waiting for its own op."""
        key = (hearing_id, stored.sha256)
        self._held[key] -= 1
        if self._held[key] <= 0:
            del self._held[key]
            if not referenced:
                self.path(hearing_id, stored.sha256).unlink(missing_ok=True)

    def intact(self, hearing_id: str, sha256: str) -> bool:
        """Whether the stored file still hashes to ``sha256`` (checked once per
        version of the file on disk, by inode, size and modification time)."""
        path = self.path(hearing_id, sha256)
        try:
            st = path.stat()
        except FileNotFoundError:
            return False
        version = (st.st_ino, st.st_size, st.st_mtime_ns)
        if self._verified.get(path) == version:
            return True
        if file_sha256(path) != sha256:
            return False
        self._verified[path] = version
        return True


def file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1024 * 1024):
            sha.update(block)
    return sha.hexdigest()


def _finish(f: object, rest: bytes) -> None:
    f.write(rest)  # type: ignore[attr-defined]
    f.flush()  # type: ignore[attr-defined]
    os.fsync(f.fileno())  # type: ignore[attr-defined]


def _place(tmp: Path, target: Path) -> None:
    """Move a complete, fsync'd file to its name (kept if already there: the
    same hash is the same file) and make the rename durable."""
    if target.exists():
        return
    os.replace(tmp, target)
    fsync_path(target.parent)

"""The hub's signing key, kept outside the data directory.

Whoever can write the data directory can rewrite a hearing's log and its
hash chain; what they cannot do without this key is sign the result. So
the key lives elsewhere (by default ``~/.config/courtroom/signing-key.pem``,
readable by the hub's user alone), is created at the hub's first start,
and the hub refuses a key inside its data directory. Its public half
(``courtroom keys public``) is what ``courtroom verify`` checks against,
and what a court hands to whoever audits its records.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class KeyFileError(Exception):
    """A key file cannot be used; the message says why and what to do."""


def default_key_path() -> Path:
    if os.environ.get("COURTROOM_SIGNING_KEY"):
        return Path(os.environ["COURTROOM_SIGNING_KEY"])
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "courtroom" / "signing-key.pem"


def generate(path: Path) -> Ed25519PrivateKey:
    """A new key, written readable by its owner only."""
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    return key


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise KeyFileError(f"no signing key at {path}") from None
    except (ValueError, TypeError) as err:
        raise KeyFileError(f"{path} is not an unencrypted PEM private key: {err}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not an Ed25519 key")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    """The public key in a file holding either half."""
    data = path.read_bytes() if path.exists() else None
    if data is None:
        raise KeyFileError(f"no key at {path}")
    if b"PRIVATE KEY" in data:
        return load_private(path).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as err:
        raise KeyFileError(f"{path} is not a PEM key: {err}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path} is not an Ed25519 key")
    return key


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def signing_key(path: Path, data_dir: Path) -> tuple[Ed25519PrivateKey, bool]:
    """The hub's key (created if there is none yet), and whether it was just
    created. A key inside the data directory protects nothing: refused."""
    if path.resolve().is_relative_to(data_dir.resolve()):
        raise KeyFileError(f"the signing key {path} is inside the data directory {data_dir}; keep it elsewhere "
                        "(--signing-key or COURTROOM_SIGNING_KEY), or it protects nothing")
    if path.exists():
        return load_private(path), False
    return generate(path), True

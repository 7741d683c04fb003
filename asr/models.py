"""Where the vosk model comes from: ``--model``, ``COURTROOM_VOSK_MODEL``,
then the model cache; and fetching a model into that cache."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Callable

from .engine import ModelError

ENV_VAR = "COURTROOM_VOSK_MODEL"
MODEL_LIST_URL = "https://alphacephei.com/vosk/models/model-list.json"
#: Short names for ``courtroom models download``, best first.
KNOWN_MODELS = {"cn": "vosk-model-cn-0.22", "small-cn": "vosk-model-small-cn-0.22"}
HOW_TO = (f"give a model folder with --model DIR or the {ENV_VAR} environment variable, "
          "or fetch one with `courtroom models download small-cn`")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "courtroom" / "models"


def find_model(explicit: Path | None = None) -> Path:
    """The model folder to use, or ``ModelError`` saying how to provide one."""
    if explicit is not None:
        return explicit
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    cache = cache_dir()
    for name in KNOWN_MODELS.values():
        if (cache / name).is_dir():
            return cache / name
    raise ModelError(f"no speech recognition model found (looked in {cache}); {HOW_TO}")


def _fetch_list(url: str) -> list[dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            models = json.load(r)
    except (OSError, ValueError) as err:
        raise ModelError(f"cannot read the model list at {url}: {err}") from None
    if not isinstance(models, list):
        raise ModelError(f"the model list at {url} is not a list")
    return models


def download(short_name: str, dest: Path | None = None, list_url: str = MODEL_LIST_URL,
             progress: Callable[[int, int], None] | None = None) -> Path:
    """Fetch a model zip named in the model list, check its MD5 (the list's
    checksum), and unpack it into ``dest`` (the cache by default)."""
    if short_name not in KNOWN_MODELS:
        raise ModelError(f"unknown model {short_name!r}; choose one of {', '.join(KNOWN_MODELS)}")
    name = KNOWN_MODELS[short_name]
    dest = dest or cache_dir()
    entry = next((m for m in _fetch_list(list_url) if m.get("name") == name), None)
    if entry is None or not isinstance(entry.get("url"), str) or not isinstance(entry.get("md5"), str):
        raise ModelError(f"the model list at {list_url} has no download for {name}")
    url, md5 = str(entry["url"]), str(entry["md5"]).lower()
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".download-") as tmp:
        archive = Path(tmp) / f"{name}.zip"
        digest = hashlib.md5()
        try:
            with urllib.request.urlopen(url, timeout=60) as r, archive.open("wb") as out:
                total = int(r.headers.get("Content-Length") or entry.get("size") or 0)
                done = 0
                while chunk := r.read(1 << 20):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
        except OSError as err:
            raise ModelError(f"download of {url} failed: {err}") from None
        if digest.hexdigest() != md5:
            raise ModelError(f"{url} is damaged: MD5 {digest.hexdigest()}, expected {md5}; nothing was installed")
        unpacked = Path(tmp) / "unpacked"
        try:
            with zipfile.ZipFile(archive) as z:
                for member in z.namelist():
                    if member.startswith("/") or ".." in Path(member).parts:
                        raise ModelError(f"{url} holds an unsafe path: {member}")
                z.extractall(unpacked)
        except zipfile.BadZipFile as err:
            raise ModelError(f"{url} is not a zip archive: {err}") from None
        roots = [p for p in unpacked.iterdir() if p.is_dir()]
        source = roots[0] if len(roots) == 1 else unpacked
        target = dest / name
        if target.exists():
            shutil.rmtree(target)
        source.rename(target)
    return target

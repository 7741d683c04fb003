"""Model resolution and download, against a local HTTP server standing in
for the vosk model site (this machine has no internet)."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import threading
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from asr.engine import ModelError, VoskEngine
from asr.models import ENV_VAR, download, find_model
from tests.asr.conftest import TONE_MODEL


def model_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(TONE_MODEL / "tone-model.json", "vosk-model-small-cn-0.22/tone-model.json")
    return buf.getvalue()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[dict[str, object]]:
    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    archive = model_zip()

    def publish(md5: str) -> str:
        files["/models/vosk-model-small-cn-0.22.zip"] = archive
        files["/model-list.json"] = json.dumps([
            {"name": "vosk-model-small-cn-0.22", "lang": "cn", "md5": md5, "size": len(archive),
             "url": base + "/models/vosk-model-small-cn-0.22.zip"}]).encode()
        return base + "/model-list.json"

    yield {"publish": publish, "md5": hashlib.md5(archive).hexdigest()}
    server.shutdown()


def test_download_checks_the_checksum_and_installs(site: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    seen: list[tuple[int, int]] = []
    target = download("small-cn", tmp_path / "cache", site["publish"](site["md5"]),
                      lambda done, total: seen.append((done, total)))
    assert target == tmp_path / "cache" / "vosk-model-small-cn-0.22"
    assert seen and seen[-1][0] == seen[-1][1]
    VoskEngine(target)  # the tone shim loads what was installed
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["vosk-model-small-cn-0.22"]


def test_damaged_download_installs_nothing(site: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    with pytest.raises(ModelError, match="damaged"):
        download("small-cn", tmp_path / "cache", site["publish"]("0" * 32))
    assert list((tmp_path / "cache").iterdir()) == []


def test_download_errors_are_clear(site: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    with pytest.raises(ModelError, match="unknown model"):
        download("large-en", tmp_path)
    with pytest.raises(ModelError, match="cannot read the model list"):
        download("small-cn", tmp_path, "http://127.0.0.1:9/nothing.json")
    url = site["publish"](site["md5"])
    with pytest.raises(ModelError, match="has no download for vosk-model-cn-0.22"):
        download("cn", tmp_path, url)


def test_model_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(ModelError, match="--model DIR"):
        find_model()
    cached = tmp_path / "courtroom" / "models" / "vosk-model-small-cn-0.22"
    cached.mkdir(parents=True)
    assert find_model() == cached
    monkeypatch.setenv(ENV_VAR, "/from/env")
    assert find_model() == Path("/from/env")
    assert find_model(Path("/given")) == Path("/given")


def test_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a usable vosk model"):
        VoskEngine(tmp_path)
    with pytest.raises(ModelError, match="no vosk model folder"):
        VoskEngine(tmp_path / "missing")

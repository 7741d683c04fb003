"""Real Chromium (Debian's, never a downloaded build) driven by Playwright.
Without Chromium these tests skip, except under CI, where they fail."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, AsyncIterator, Callable

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--use-fake-ui-for-media-stream",
         "--use-fake-device-for-media-stream=device-count=2", "--allow-loopback-in-peer-connection",
         "--autoplay-policy=no-user-gesture-required"]


def tone_microphone(path: Path, lines: list[tuple[float, str]], quiet: float) -> Path:
    """A WAV in the tone language for Chromium's fake microphone: each line
    (words, space-separated) at its second, then ``quiet`` seconds."""
    import sys

    import numpy as np

    from tests.support import SHARED
    sys.path.insert(0, str(SHARED / "testing"))
    from tonespeech import synthesize  # type: ignore[import-not-found]

    from tests.asr.support import write_wav
    pcm, _ = synthesize([(at, 0, text) for at, text in lines], rate=48_000, channels=1)
    pcm = np.concatenate([pcm, np.zeros((int(quiet * 48_000), 1), pcm.dtype)])
    return write_wav(path, pcm, 48_000)


def need_chromium() -> None:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class Browsers:
    """Chromium processes, one per fake microphone, closed together."""

    def __init__(self, playwright: Any, artifacts: Path) -> None:
        self.playwright = playwright
        self.artifacts = artifacts
        self.browsers: list[Any] = []
        self.errors: list[str] = []

    async def page(self, url: str, microphone: Path | None = None, name: str = "page",
                   size: tuple[int, int] = (1280, 800), touch: bool = False) -> Any:
        flags = list(FLAGS)
        if microphone is not None:
            flags.append(f"--use-file-for-fake-audio-capture={microphone}%noloop")
        browser = await self.playwright.chromium.launch(executable_path=str(CHROMIUM), args=flags,
                                                        headless=True)
        self.browsers.append(browser)
        context = await browser.new_context(viewport={"width": size[0], "height": size[1]}, has_touch=touch,
                                            is_mobile=touch and size[0] < 600)
        page = await context.new_page()
        page.on("console", lambda m: self.errors.append(f"{name}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"{name}: {e}"))
        page.on("response", lambda r: self.errors.append(f"{name}: {r.status} {r.url}") if r.status >= 400 else None)
        await page.goto(url)
        return page

    async def close(self) -> None:
        for b in self.browsers:
            await b.close()


@pytest.fixture
def browsers(tmp_path: Path) -> Callable[[], Any]:
    need_chromium()
    from playwright.async_api import async_playwright

    artifacts = Path(__file__).resolve().parents[2] / "test-results"
    artifacts.mkdir(exist_ok=True)

    async def factory() -> AsyncIterator[Browsers]:
        async with async_playwright() as p:
            b = Browsers(p, artifacts)
            try:
                yield b
            finally:
                await b.close()
    return factory

"""What a court user can read on a page, for the tests that check it is
all Chinese."""

from __future__ import annotations

import re
from typing import Any

#: Latin words a Chinese court user reads as names of formats, units and
#: keys (as printed on a keyboard); everything else must be Chinese.
ALLOWED = {"PDF", "Word", "DOCX", "JPEG", "PNG", "WebP", "MB", "HTTPS", "https", "SHA", "Shift", "Ctrl"}
_WORD = re.compile(r"[A-Za-z]{2,}")
#: A hash printed in groups of hex digits (the 笔录's SHA-256) is not words.
_HEX = re.compile(r"\b[0-9a-f]{16}\b")

#: Visible text and the text a screen reader or a hover shows; device
#: pickers are left out (device names are the hardware's).
_READABLE = """() => {
    const out = [document.title, document.body.innerText];
    for (const el of document.querySelectorAll("[title], [aria-label], [placeholder], [alt]")) {
        if (el.closest("#devices")) continue;
        for (const a of ["title", "aria-label", "placeholder", "alt"]) if (el.getAttribute(a)) out.push(el.getAttribute(a));
    }
    return out.join("\\n");
}"""


async def readable(page: Any) -> str:
    return await page.evaluate(_READABLE)


def english(text: str, *user_data: str) -> list[str]:
    """Latin words in ``text`` that are not allowed, after removing what
    users typed or uploaded (names, file names)."""
    for given in user_data:
        text = text.replace(given, "")
    text = _HEX.sub("", text)
    return [w for w in _WORD.findall(text) if w not in ALLOWED]

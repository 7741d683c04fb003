"""What every PDF of a case shares: A4, the standard Chinese CID font
(STSong-Light, which every PDF reader supplies, so no font ships with the
hub), a title block, and the page numbers."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any, Callable
from xml.sax.saxutils import escape

from PIL import Image as PILImage
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def drawable(data_url: str | None) -> bytes | None:
    """The image of a signature or fingerprint (a PNG or JPEG data URL), if
    it can be drawn: the core checks only its first bytes, so an image
    whose body is broken is left out of a document rather than breaking it."""
    if not data_url:
        return None
    data = base64.b64decode(data_url.split(",", 1)[1])
    try:
        with PILImage.open(io.BytesIO(data)) as image:
            image.load()
    except Exception:  # noqa: BLE001 - whatever the decoder says, it cannot be drawn
        return None
    return data


def text(s: str) -> str:
    """Text for a paragraph: escaped, and the middle dot as the GB character
    set of STSong-Light has it (U+30FB)."""
    return escape(s).replace("·", "・")


@dataclass(frozen=True)
class Styles:
    body: ParagraphStyle = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=18, wordWrap="CJK")
    small: ParagraphStyle = ParagraphStyle("small", fontName=FONT, fontSize=9, leading=13, wordWrap="CJK",
                                           textColor="#444444")
    head: ParagraphStyle = ParagraphStyle("head", fontName=FONT, fontSize=18, leading=28, alignment=1)
    sub: ParagraphStyle = ParagraphStyle("sub", fontName=FONT, fontSize=13, leading=20, alignment=1)
    digest: ParagraphStyle = ParagraphStyle("digest", fontName="Courier", fontSize=8, leading=11)


STYLES = Styles()


def heading(court: str, title: str, case_number: str) -> list[Any]:
    return [Paragraph(text(court), STYLES.head), Paragraph(text(title), STYLES.head),
            Paragraph(text(case_number), STYLES.sub), Spacer(1, 10)]


def fields(rows: list[tuple[str, str]]) -> list[Any]:
    return [Paragraph(f"<b>{text(k)}：</b>{text(v)}", STYLES.body) for k, v in rows]


def table(rows: list[list[str]], widths: list[float]) -> Table:
    """A ruled table of text (the first row a header), wrapping CJK text."""
    cells = [[Paragraph(text(c), STYLES.small) for c in row] for row in rows]
    t = Table(cells, colWidths=[w * cm for w in widths], repeatRows=1)
    t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "#888888"), ("BACKGROUND", (0, 0), (-1, 0), "#eeeeee"),
                           ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return t


def numbered(decorate: Callable[[Canvas, int, int], None]) -> type[Canvas]:
    """A canvas class that calls ``decorate(canvas, number, total)`` on
    every page once the number of pages is known (a header, "第 2 页 共 5
    页", the signatures at the foot)."""

    class Numbered(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number, page in enumerate(self._pages, 1):
                self.__dict__.update(page)
                decorate(self, number, len(self._pages))
                super().showPage()
            super().save()

    return Numbered


def render(story: list[Any], title: str, footer: str) -> bytes:
    """The story on A4 pages, each with ``footer`` and its number."""
    width, _ = A4

    def decorate(canvas: Canvas, number: int, total: int) -> None:
        canvas.setFont(FONT, 9)
        canvas.setFillColor("#555555")
        canvas.drawCentredString(width / 2, 1.0 * cm, f"{footer}　第 {number} 页 共 {total} 页")

    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=title, leftMargin=2.5 * cm, rightMargin=2.5 * cm,
                      topMargin=2.2 * cm, bottomMargin=2.2 * cm).build(story, canvasmaker=numbered(decorate))
    return out.getvalue()

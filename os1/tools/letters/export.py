"""Letters out: Markdown, and PDF through `fpdf2` (one letter, or all of them gathered into a book)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from pathlib import Path
from typing import Any

from .store import Letter

# A Unicode TrueType font makes any language print; Debian's fonts-dejavu-core (installed by `make setup`)
# or the fonts macOS ships. Without one, fpdf2's built-in Latin-1 Times is used and other characters print as '?'.
FONT_CANDIDATES: tuple[tuple[str, str], ...] = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf", "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf"),
    ("/Library/Fonts/Arial Unicode.ttf", "/Library/Fonts/Arial Unicode.ttf"),
)


def to_markdown(letter: Letter, zone: tzinfo | None = None) -> str:
    when = letter.updated_at.astimezone(zone) if zone else letter.updated_at
    head = f"# {letter.title}\n\n"
    meta = f"*To {letter.recipient} · {when:%d %B %Y}*" if letter.recipient else f"*{when:%d %B %Y}*"
    return f"{head}{meta}\n\n{letter.body.strip()}\n"


def book_markdown(letters: Sequence[Letter], title: str, zone: tzinfo | None = None) -> str:
    parts = [f"# {title}\n"] + [to_markdown(x, zone).replace("# ", "## ", 1) for x in letters]
    return "\n\n".join(parts)


def _pdf() -> tuple[Any, str, bool]:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_margins(25, 25, 25)
    pdf.set_auto_page_break(True, margin=25)
    for regular, bold in FONT_CANDIDATES:
        if Path(regular).is_file():
            pdf.add_font("Letter", "", regular)
            pdf.add_font("Letter", "B", bold if Path(bold).is_file() else regular)
            return pdf, "Letter", True
    return pdf, "Times", False


def _latin1(text: str, unicode_ok: bool) -> str:
    if unicode_ok:
        return text
    for a, b in (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u2014", "-"), ("\u2013", "-"), ("\u2026", "...")):
        text = text.replace(a, b)
    return text.encode("latin-1", "replace").decode("latin-1")


def _write_letter(pdf: Any, font: str, uni: bool, letter: Letter, zone: tzinfo | None) -> None:
    pdf.add_page()
    when = letter.updated_at.astimezone(zone) if zone else letter.updated_at
    pdf.set_font(font, "B", 16)
    pdf.multi_cell(0, 9, _latin1(letter.title, uni), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 10)
    line = (f"To {letter.recipient} · " if letter.recipient else "") + f"{when:%d %B %Y}"
    pdf.multi_cell(0, 6, _latin1(line, uni), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(font, "", 12)
    for para in letter.body.strip().split("\n"):
        pdf.multi_cell(0, 7, _latin1(para, uni) or " ", new_x="LMARGIN", new_y="NEXT")


def to_pdf(letter: Letter, zone: tzinfo | None = None) -> bytes:
    pdf, font, uni = _pdf()
    pdf.set_title(_latin1(letter.title, uni))
    _write_letter(pdf, font, uni, letter, zone)
    return bytes(pdf.output())


def book_pdf(letters: Sequence[Letter], title: str, zone: tzinfo | None = None) -> bytes:
    """A title page, a contents page, then each letter on its own pages."""
    pdf, font, uni = _pdf()
    pdf.set_title(_latin1(title, uni))
    pdf.add_page()
    pdf.set_font(font, "B", 26)
    pdf.ln(80)
    pdf.multi_cell(0, 14, _latin1(title, uni), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 12)
    pdf.multi_cell(0, 8, f"{len(letters)} letters", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    pdf.set_font(font, "B", 16)
    pdf.cell(0, 10, _latin1("Contents", uni), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 12)
    for i, x in enumerate(letters, 1):
        pdf.multi_cell(0, 7, _latin1(f"{i}. {x.title}" + (f" (to {x.recipient})" if x.recipient else ""), uni),
                       new_x="LMARGIN", new_y="NEXT")
    for x in letters:
        _write_letter(pdf, font, uni, x, zone)
    return bytes(pdf.output())

"""Every prompt the model sees lives in this folder, one file each; `render` fills one in."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template

_DIR = Path(__file__).parent


@cache
def _template(name: str) -> Template:
    return Template((_DIR / f"{name}.md").read_text("utf-8"))


def render(name: str, **values: object) -> str:
    """The prompt `name` with `$placeholders` filled; a missing value is an error, not a blank."""
    return _template(name).substitute({k: str(v) for k, v in values.items()}).strip()


def names() -> list[str]:
    return sorted(p.stem for p in _DIR.glob("*.md"))

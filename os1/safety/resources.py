"""Crisis resources for the user's country: a bundled TOML, with the user's own file merged over it."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

BUNDLED = Path(__file__).with_name("resources.toml")
USER_FILE_NAME = "safety_resources.toml"
DEFAULT_COUNTRY = "US"
"""Where no locale is set: OS1 is built first for the US, where SB 243 asks for crisis referrals."""
INTERNATIONAL = "international"


@dataclass(frozen=True, slots=True)
class CrisisResources:
    """The crisis lines for one country, and the phrase the reviewed fallback reply uses."""

    country: str
    """ISO 3166-1 alpha-2 code, or 'international'."""
    name: str
    lines: tuple[str, ...]
    emergency: str
    hotline: str

    @property
    def shown(self) -> tuple[str, ...]:
        """What OS1 shows alongside a reply: the lines, then what to do in immediate danger."""
        return (*self.lines, f"If you are in immediate danger, call {self.emergency}.")


def country_of(locale: str | None) -> str:
    """'en_US.UTF-8', 'de-DE', 'gb' -> 'US', 'DE', 'GB'; None or '' -> the default country."""
    if not locale or not locale.strip():
        return DEFAULT_COUNTRY
    text = locale.strip().split(".")[0]
    if text.lower() == INTERNATIONAL:
        return INTERNATIONAL
    m = re.fullmatch(r"(?:[A-Za-z]{2,3}[_-])?([A-Za-z]{2})", text)
    if m is None:
        raise ConfigError(f"Cannot read a country from OS1_LOCALE={locale!r}.",
                          hint="Use a country code (US, GB, DE) or a locale such as en_GB.")
    return m.group(1).upper()


def _read(path: Path) -> dict[str, dict[str, object]]:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"Cannot read crisis resources from {path}: {e}",
                          hint="Fix the file (TOML, one [COUNTRY] table each) or delete it to use the bundled list.") from e
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def load_table(user_file: Path | None = None) -> dict[str, dict[str, object]]:
    """The bundled table, with each country in the user's file merged over it."""
    table = _read(BUNDLED)
    if user_file is not None and user_file.is_file():
        for country, entry in _read(user_file).items():
            key = country if country == INTERNATIONAL else country.upper()
            table[key] = {**table.get(key, {}), **entry}
    return table


def _entry(country: str, raw: dict[str, object], fallback: dict[str, object]) -> CrisisResources:
    merged = {**fallback, **raw}
    lines = merged.get("lines")
    if not isinstance(lines, list) or not all(isinstance(x, str) and x.strip() for x in lines) or not lines:
        raise ConfigError(f"Crisis resources for {country}: `lines` must be a non-empty list of text.")
    return CrisisResources(country, str(merged.get("name", country)), tuple(lines),
                           str(merged.get("emergency", "your local emergency number")), str(merged.get("hotline", "")))


def resources_for(locale: str | None, user_file: Path | None = None) -> CrisisResources:
    """The crisis resources for `locale` (OS1_LOCALE); an unlisted country gets the international entry."""
    table = load_table(user_file)
    country = country_of(locale)
    intl = table.get(INTERNATIONAL, {})
    if country in table:
        return _entry(country, table[country], intl)
    found = _entry(INTERNATIONAL, intl, {})
    return CrisisResources(country, found.name, found.lines, found.emergency, found.hotline)


__all__ = ["BUNDLED", "DEFAULT_COUNTRY", "USER_FILE_NAME", "CrisisResources", "country_of", "load_table", "resources_for"]

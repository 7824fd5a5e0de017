"""Swedish-first UI text: dates, locales, the translator, and a complete Swedish catalog."""

from __future__ import annotations

import datetime as dt
import re
import string
import zoneinfo
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from domain.i18n import (
    DEFAULT_LOCALE,
    Locale,
    Translator,
    format_day,
    format_day_time,
    normalize_locale,
    per_language,
    recipient_locale,
    recipient_translator,
    supported_locale,
)

ROOT = Path(__file__).resolve().parents[2]
SOURCE_PACKAGES = ("bot", "handlers", "domain")
SV_PO = ROOT / "domain" / "locale" / "sv" / "LC_MESSAGES" / "samverkan.po"
# The same keywords as tools/update_catalogs.sh:
# -k t -k gettext:2 -k ngettext:1,2 -k N_ -k N_plural:1,2 (t.ngettext(singular, plural, n)).
KEYWORDS = {"t": None, "gettext": (2,), "ngettext": (1, 2), "N_": None, "N_plural": (1, 2)}
STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
THURSDAY = dt.date(2026, 12, 3)


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("sv", "torsdag 3 december 2026"), ("en", "Thursday 3 December 2026")],
)
def test_format_day(locale: Locale, expected: str) -> None:
    assert format_day(THURSDAY, locale) == expected


def test_format_day_is_swedish_by_default() -> None:
    assert format_day(THURSDAY) == "torsdag 3 december 2026"


@pytest.mark.parametrize(
    ("locale", "expected"), [("sv", "torsdag 3 december"), ("en", "Thursday 3 December")]
)
def test_format_day_without_year(locale: Locale, expected: str) -> None:
    assert format_day(THURSDAY, locale, year=False) == expected


@pytest.mark.parametrize(
    ("moment", "locale", "expected"),
    [
        # Winter: UTC+1.
        (dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC), "sv", "torsdag 3 december 2026 13:00"),
        (dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC), "en", "Thursday 3 December 2026 13:00"),
        # Summer: UTC+2.
        (dt.datetime(2027, 6, 3, 11, 0, tzinfo=dt.UTC), "sv", "torsdag 3 juni 2027 13:00"),
        (dt.datetime(2027, 6, 3, 11, 0, tzinfo=dt.UTC), "en", "Thursday 3 June 2027 13:00"),
        # Late evening in UTC is already the next day in Stockholm.
        (dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), "sv", "fredag 1 januari 2027 00:30"),
    ],
)
def test_format_day_time_shows_stockholm_time(
    moment: dt.datetime, locale: Locale, expected: str
) -> None:
    assert format_day_time(moment, STOCKHOLM, locale) == expected


def test_translator_formats_days_in_its_language() -> None:
    moment = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)

    assert Translator("sv").day_time(moment, STOCKHOLM) == "torsdag 3 december 2026 13:00"
    assert Translator("en").day(THURSDAY, year=False) == "Thursday 3 December"


# --- locales ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("en-US", "en"),
        ("en-GB", "en"),
        ("en_GB", "en"),
        ("EN-us", "en"),
        ("sv-SE", "sv"),
        ("sv", "sv"),
        (None, DEFAULT_LOCALE),
        ("", DEFAULT_LOCALE),
        ("de-DE", DEFAULT_LOCALE),
        ("fi-FI", DEFAULT_LOCALE),
    ],
)
def test_normalize_locale(value: str | None, expected: Locale) -> None:
    assert normalize_locale(value) == expected


def test_default_locale_is_swedish() -> None:
    assert DEFAULT_LOCALE == "sv"


def test_unsupported_locale_falls_back_to_the_given_default() -> None:
    assert normalize_locale("de-DE", default="en") == "en"
    assert normalize_locale(None, default="en") == "en"
    assert normalize_locale("sv-FI", default="en") == "sv"


# --- the translator --------------------------------------------------------------------------


def test_swedish_translation() -> None:
    assert Translator("sv")("Help") == "Hjälp"


def test_english_is_the_source_text() -> None:
    assert Translator("en")("Help") == "Help"


def test_parameters_are_filled_in() -> None:
    msgid = "The code {code} is already used by another forum."

    assert Translator("sv")(msgid, code="FOS") == "Koden FOS används redan av ett annat forum."
    assert Translator("en")(msgid, code="FOS") == "The code FOS is already used by another forum."


def test_braces_in_a_parameter_value_are_kept_as_they_are() -> None:
    text = Translator("sv")("This channel already has a forum ({name}).", name="{x} & {y}")

    assert text == "Den här kanalen har redan ett forum ({x} & {y})."


def test_text_without_translation_passes_through() -> None:
    assert Translator("sv")("No such msgid {n}", n=3) == "No such msgid 3"


# --- the Swedish catalog is complete ---------------------------------------------------------


def _extracted() -> dict[str | tuple[str, ...], list[str]]:
    """Every msgid in the source packages, with where it is used."""
    found: dict[str | tuple[str, ...], list[str]] = {}
    for package in SOURCE_PACKAGES:
        for filename, lineno, msgid, _comments, _context in extract_from_dir(
            ROOT / package, keywords=KEYWORDS
        ):
            found.setdefault(msgid, []).append(f"{package}/{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def extracted() -> dict[str | tuple[str, ...], list[str]]:
    return _extracted()


@pytest.fixture(scope="module")
def swedish() -> Catalog:
    with SV_PO.open("rb") as fh:
        return read_po(fh, locale="sv", domain="samverkan")


def _translations(string_: str | Sequence[str] | None) -> tuple[str, ...]:
    if isinstance(string_, str) or string_ is None:
        return (string_ or "",)
    return tuple(string_)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_extraction_finds_the_ui_text(extracted: dict[str | tuple[str, ...], list[str]]) -> None:
    # Guards the completeness test below against silently extracting nothing.
    assert "Help" in extracted  # t("Help") in handlers
    assert "Only the forum's coordinators can do that." in extracted  # N_ in domain
    assert "A forum meets at most once a day: use DAILY, WEEKLY, MONTHLY or YEARLY." in extracted
    assert len(extracted) > 50


def test_every_ui_text_has_a_swedish_translation(
    extracted: dict[str | tuple[str, ...], list[str]], swedish: Catalog
) -> None:
    missing = []
    for msgid, where in extracted.items():
        entry = swedish.get(msgid)
        if entry is None or entry.fuzzy or not all(_translations(entry.string)):
            missing.append(f"  {msgid!r} ({where[0]})")

    assert not missing, (
        f"{len(missing)} UI text(s) have no Swedish translation in "
        f"{SV_PO.relative_to(ROOT)}:\n"
        + "\n".join(sorted(missing))
        + "\nRun tools/update_catalogs.sh, then translate the new entries (and drop any "
        "'#, fuzzy' mark) in domain/locale/sv/LC_MESSAGES/samverkan.po."
    )


def test_swedish_translations_keep_the_placeholders(
    extracted: dict[str | tuple[str, ...], list[str]], swedish: Catalog
) -> None:
    broken = []
    for msgid in extracted:
        entry = swedish.get(msgid)
        if entry is None:
            continue  # reported by the completeness test
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        wanted = set().union(*(_fields(i) for i in ids))
        for text in _translations(entry.string):
            if not text:
                continue
            have = _fields(text)
            # Plural forms may leave out {n} ("ett ärende"); nothing else may be missing, and
            # no placeholder may be added (str.format would raise KeyError).
            required = wanted - {"n"} if isinstance(msgid, tuple) else wanted
            if not required <= have or not have <= wanted:
                broken.append(f"  {msgid!r}: {text!r} has {sorted(have)}, needs {sorted(wanted)}")

    assert not broken, "Swedish translations with wrong {placeholders}:\n" + "\n".join(broken)


def test_every_swedish_translation_formats(
    extracted: dict[str | tuple[str, ...], list[str]],
) -> None:
    t = Translator("sv")
    for msgid in extracted:
        if isinstance(msgid, tuple):
            continue
        params = {name: "§§" for name in _fields(msgid)}
        if params:
            assert "§§" in t(msgid, **params), msgid


def test_no_translated_text_hides_inside_an_f_string() -> None:
    """Babel cannot extract t("…") written inside an f-string: it would stay English."""
    import re

    pattern = re.compile(r"""f(["']).*\{t\(""")
    hidden = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in SOURCE_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert hidden == [], "move t(...) out of these f-strings: " + ", ".join(hidden)


def test_every_translated_call_has_its_text_where_babel_reads_it() -> None:
    """A plural call babel cannot read stays English and is dropped from the catalog.

    The keywords read ``ngettext(singular, plural, n)``: the module-level
    ``ngettext(locale, singular, plural, n)`` has the locale where babel looks for the singular,
    so its text never reaches the catalog (the agenda's "… och 2 till" went missing that way).
    """
    import ast

    unread = []
    for package in SOURCE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "domain" / "i18n.py":
                continue  # where the functions are defined
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                # t.ngettext(msgid, plural, n) with names is fine (the texts are marked with
                # N_plural where they are written); the bare function is what babel misreads.
                if isinstance(node.func, ast.Name) and node.func.id == "ngettext":
                    unread.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert unread == [], "use t.ngettext(singular, plural, n): " + ", ".join(unread)


def test_a_dm_is_in_its_recipients_language_else_the_forums_else_swedish() -> None:
    english_forum = SimpleNamespace(team_id="T1", language="en")
    odd_forum = SimpleNamespace(team_id="T1", language="de")
    known = {"U1": "en", "U2": "sv"}

    def locale_of(team_id: str | None, user: str) -> Locale | None:
        assert team_id == "T1"  # asked about the forum's own workspace
        return supported_locale(known.get(user))

    assert recipient_locale(locale_of, english_forum, "U2") == "sv"
    assert recipient_locale(locale_of, odd_forum, "U1") == "en"
    assert recipient_locale(locale_of, english_forum, "U9") == "en"  # unknown: the forum's
    assert recipient_locale(None, odd_forum, "U1") == "sv"  # neither: Swedish
    t = recipient_translator(locale_of, odd_forum, "U1")
    assert t.day(dt.date(2026, 12, 3), year=False) == "Thursday 3 December"
    assert supported_locale("de-DE") is None and supported_locale("en_GB") == "en"


# --- command words in the reader's language -----------------------------------------------------

EN_PO = ROOT / "domain" / "locale" / "en" / "LC_MESSAGES" / "samverkan.po"
# Subcommands and their arguments as the Swedish help names them; English text names the
# English words (the bot understands both, but an English reader is told the English ones).
SWEDISH_COMMAND_WORDS = {
    "hjälp", "ny", "medlemmar", "inställningar", "ärende", "ärenden", "avvikelse", "möten",
    "dagordning", "punkt", "insats", "insatser", "åtgärdsplan", "statistik", "logg",
    "samtycke", "gallring", "registerutdrag", "grund", "stopp", "släpp", "borta", "tillbaka",
    "lägesbild", "bedöm", "uppföljning", "återkoppling", "kriterier", "styrning",
    "aktivitetsplan", "verksamhetsberättelse", "årsrapport",
}  # fmt: skip
COMMAND_WORDS = re.compile(r"/samverkan((?: [^\s`.,;:)]+){1,2})")


def test_english_text_names_the_english_command_words(
    extracted: dict[str | tuple[str, ...], list[str]],
) -> None:
    with EN_PO.open("rb") as fh:
        english = read_po(fh, locale="en", domain="samverkan")
    swedish_words = []
    for msgid in extracted:
        entry = english.get(msgid)
        sources = (msgid,) if isinstance(msgid, str) else tuple(msgid)
        shown = _translations(entry.string) if entry is not None else ("",)
        for source, text in zip(sources, shown + shown[-1:] * len(sources), strict=False):
            for words in COMMAND_WORDS.findall(text or source):
                if SWEDISH_COMMAND_WORDS & set(words.split()):
                    swedish_words.append(f"  {msgid!r}: /samverkan{words}")
    assert not swedish_words, (
        "English text that names a Swedish subcommand (give it an English msgstr in "
        f"{EN_PO.relative_to(ROOT)}):\n" + "\n".join(sorted(swedish_words))
    )


def test_per_language_builds_once_a_language_not_once_a_recipient() -> None:
    """Five recipients reading two languages: two documents built, one for each."""
    built: list[str] = []

    def make(t: Translator) -> str:
        built.append(t.locale)
        return t("Samverkan") + f" ({t.locale})"

    documents = per_language(["sv", "en", "sv", "sv", "en"], make)
    assert built == ["sv", "en"]
    assert documents == {"sv": "Samverkan (sv)", "en": "Samverkan (en)"}

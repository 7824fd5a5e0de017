"""Translations and Swedish-first formatting through Babel.

Source strings (msgids) are English; the Swedish catalog (``domain/locale/sv``) is the
default UI language. Catalogs are read from the ``.po`` files and compiled in memory once,
so no generated ``.mo`` file needs to live in git.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

Locale = Literal["sv", "en"]
LOCALES: tuple[Locale, ...] = ("sv", "en")
DEFAULT_LOCALE: Locale = "sv"
DOMAIN = "samverkan"
LOCALE_DIR = Path(__file__).parent / "locale"


def supported_locale(value: str | None) -> Locale | None:
    """The supported locale a Slack user locale (``en-US``, ``sv-SE``) or a setting names;
    None when it names none (missing, or a language we have no catalog for)."""
    lang = (value or "").replace("_", "-").split("-", 1)[0].lower()
    return "en" if lang == "en" else "sv" if lang == "sv" else None


def normalize_locale(value: str | None, default: Locale = DEFAULT_LOCALE) -> Locale:
    """Map a Slack user locale (``en-US``, ``sv-SE``) or a setting to a supported locale."""
    return supported_locale(value) or default


@cache
def translations(locale: Locale) -> NullTranslations:
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def gettext(locale: Locale, msgid: str, /, **params: Any) -> str:
    """Translate ``msgid`` and fill in ``{named}`` parameters."""
    text = translations(locale).gettext(msgid)
    return text.format(**params) if params else text


def ngettext(locale: Locale, singular: str, plural: str, n: int, /, **params: Any) -> str:
    text = translations(locale).ngettext(singular, plural, n)
    return text.format(n=n, **params)


_SV_ORDER = str.maketrans({"å": "{", "ä": "|", "ö": "}", "é": "e", "ü": "y"})


def swedish_sort_key(text: str) -> str:
    """Sort like a Swedish reader: case-insensitive, with å, ä, ö after z."""
    return text.casefold().translate(_SV_ORDER)


def N_(msgid: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return msgid


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """Mark a count's two forms for extraction; translate later with
    ``t.ngettext(*pair, n)``."""
    return singular, plural


# Kept: a Thursday's agendas name the same few days thousands of times, and Babel formats
# each anew (~0.1 ms a date).
@lru_cache(maxsize=4096)
def format_day(day: dt.date, locale: Locale = DEFAULT_LOCALE, *, year: bool = True) -> str:
    """``torsdag 3 december 2026`` (sv) / ``Thursday 3 December 2026`` (en)."""
    pattern = "EEEE d MMMM y" if year else "EEEE d MMMM"
    return format_date(day, pattern, locale=locale)


def format_day_time(moment: dt.datetime, tz: dt.tzinfo, locale: Locale = DEFAULT_LOCALE) -> str:
    """``torsdag 3 december 2026 13:00`` in the forum's time zone."""
    local = moment.astimezone(tz)
    return f"{format_day(local.date(), locale)} {format_time(local, 'HH:mm', locale=locale)}"


def format_timestamp(moment: dt.datetime, tz: dt.tzinfo, locale: Locale = DEFAULT_LOCALE) -> str:
    return format_datetime(moment.astimezone(tz), "y-MM-dd HH:mm", locale=locale)


@dataclass(frozen=True)
class When:
    """A moment for a message's text, formatted in the reader's language when the message
    is (``torsdag 3 december 2026 13:00`` / ``Thursday 3 December 2026 13:00``, in ``tz``):
    a :class:`domain.errors.DomainError`'s parameter, so a refusal told in English does not
    carry the forum's Swedish date."""

    moment: dt.datetime
    tz: dt.tzinfo

    def __str__(self) -> str:
        return format_day_time(self.moment, self.tz)

    def shown(self, locale: Locale) -> str:
        return format_day_time(self.moment, self.tz, locale)


LocaleOf = Callable[[str | None, str], Locale | None]
"""A person's own language, ``locale_of(team_id, user_id)``: their Slack locale when known,
None when not (the composition root looks it up; the domain only asks)."""


class _Place(Protocol):
    """Where a DM comes from: a forum (its workspace and language)."""

    @property
    def team_id(self) -> str: ...

    @property
    def language(self) -> str: ...


def recipient_locale(locale_of: LocaleOf | None, forum: _Place, user: str) -> Locale:
    """The language of a DM to ``user`` about ``forum``: the recipient's own when known,
    else the forum's, else Swedish. Every DM the bot sends on a schedule or on someone
    else's action asks this (a channel message is shared: it keeps the forum's)."""
    own = locale_of(forum.team_id, user) if locale_of is not None else None
    return own or normalize_locale(forum.language)


def recipient_translator(locale_of: LocaleOf | None, forum: _Place, user: str) -> Translator:
    """:func:`recipient_locale` as a translator (its dates follow the language too)."""
    return Translator(recipient_locale(locale_of, forum, user))


_Made = TypeVar("_Made")


def per_language(
    locales: Iterable[Locale], make: Callable[[Translator], _Made]
) -> dict[Locale, _Made]:
    """``make`` once per language of ``locales`` (a document sent to many people, each in
    their language: built once a language, not once a recipient)."""
    return {locale: make(Translator(locale)) for locale in dict.fromkeys(locales)}


class Translator:
    """``t = Translator("sv"); t("Hello {name}", name="Ada")`` — bound to one locale."""

    def __init__(self, locale: Locale) -> None:
        self.locale = locale

    def __call__(self, msgid: str, /, **params: Any) -> str:
        return gettext(self.locale, msgid, **params)

    def ngettext(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        """A count with the right plural form: ``t.ngettext("{n} case", "{n} cases", n)``
        gives "1 ärende" / "2 ärenden". ``{n}`` is filled in, and any other ``{named}``."""
        return ngettext(self.locale, singular, plural, n, **params)

    def day(self, day: dt.date, *, year: bool = True) -> str:
        return format_day(day, self.locale, year=year)

    def day_time(self, moment: dt.datetime, tz: dt.tzinfo) -> str:
        return format_day_time(moment, tz, self.locale)

    def number(self, value: float) -> str:
        """A number as the reader writes it: "3,5" in Swedish, "3.5" in English."""
        return format_decimal(value, locale=self.locale)


R = TypeVar("R")


class Renders:
    """The DMs of one job tick, each rendered once per language, not once per recipient.

    ``renders(template, locale, *content)`` is ``template(Translator(locale), *content)``,
    kept under ``(template, locale, content)``: the next recipient of the same content in
    the same language gets the same payload. So ``template`` must be pure (what it returns
    follows from the translator and ``content`` alone) and ``content`` hashable and
    complete: every value the message shows or carries (the forum's name, the round, the
    agency, a button's value …), so two forums' or two agencies' messages never share a
    rendering. What differs per recipient (their name, their own cases) is part of the
    content, which then is theirs alone, or is left out of the kept part. A closure made for
    one forum may be the template (with no content): it is kept alive with its renderings,
    so its key is never another's.

    A payload is shared by the recipients it is kept for: never change it (the outbox
    stores a copy of it as each recipient's row). ``cached=False`` renders every time, as
    before (the benchmark's baseline). ``rendered`` counts the calls of each template per
    language."""

    def __init__(self, *, cached: bool = True) -> None:
        self.cached = cached
        self._kept: dict[tuple[Hashable, Locale, tuple[Hashable, ...]], Any] = {}
        self.rendered: Counter[tuple[str, Locale]] = Counter()

    def __call__(self, template: Callable[..., R], locale: Locale, *content: Hashable) -> R:
        key = (template, locale, content)
        if self.cached and key in self._kept:
            kept: R = self._kept[key]
            return kept
        self.rendered[getattr(template, "__qualname__", repr(template)), locale] += 1
        value = template(Translator(locale), *content)
        if self.cached:
            self._kept[key] = value
        return value

    def to(
        self,
        locale_of: LocaleOf | None,
        forum: _Place,
        user: str,
        template: Callable[..., R],
        *content: Hashable,
    ) -> R:
        """The rendering for ``user``, in their language (:func:`recipient_locale`)."""
        return self(template, recipient_locale(locale_of, forum, user), *content)

"""What the Slack handlers need from the composition root (``bot``)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from threading import Lock
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from domain import languages
from domain.clock import Clock
from domain.i18n import Locale, Translator, supported_locale
from domain.languages import Stored
from domain.retention import RetentionPolicy
from handlers.dm import DmChannels
from storage.db import held_session, reading

log = logging.getLogger(__name__)

# Languages Slack gave are stored one short transaction at a time, after the lookup (a
# request never waits for it, and on SQLite never for the write lock it may hold itself).
_WRITES = ThreadPoolExecutor(max_workers=1, thread_name_prefix="samverkan-language-store")
FAILED_LOOKUP_SECONDS = 60.0
MAX_QUEUED_LANGUAGES = 10_000
# How long a replica trusts what it read of a channel's forum code (the help's example
# reference): a forum set up, or its code changed, in another replica shows within this.
FORUM_CODE_TTL_SECONDS = 600.0
MAX_KEPT = 10_000  # per kind of what a replica keeps: past it, that kind is dropped whole

_V = TypeVar("_V")


class _Recent(Generic[_V]):
    """(team, key) → what this replica learned and when (a user's language or name, a
    channel's forum code); read back only within a time to live. Not locked: Deps holds its
    lock around every use."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], tuple[float, _V]] = {}

    def get(self, team_id: str | None, key: str, now: float, ttl: float) -> tuple[bool, _V | None]:
        hit = self._kept.get((team_id or "", key))
        if hit and now - hit[0] < ttl:
            return True, hit[1]
        return False, None

    def put(self, team_id: str | None, key: str, now: float, value: _V) -> None:
        if len(self._kept) > MAX_KEPT:
            self._kept.clear()
        self._kept[(team_id or "", key)] = (now, value)

    def clear(self) -> None:
        self._kept.clear()


@dataclass(frozen=True)
class CommandRequest:
    """Who typed which `/samverkan …` where (also built from menu buttons)."""

    team_id: str
    channel_id: str
    user_id: str
    trigger_id: str
    text: str
    channel_name: str = ""  # as Slack names it: "directmessage", "mpdm-…", the channel's


@dataclass
class Deps:
    sessions: sessionmaker[Session]
    clock: Clock
    default_locale: Locale = "sv"
    timezone: str = "Europe/Stockholm"
    locale_ttl_seconds: float = 3600.0
    retention_policy: RetentionPolicy = field(default_factory=RetentionPolicy)
    monotonic: Callable[[], float] = time.monotonic
    # The Web API client of each workspace (bot.wiring sets it): a listener's immediate
    # delivery sends every message it finds due with its own workspace's token.
    client_for_team: Callable[[str | None], Any] | None = None
    _locales: _Recent[Locale | None] = field(default_factory=_Recent)
    # When Slack last failed to say a user's locale (not asked again for a minute).
    _failed: dict[tuple[str, str], float] = field(default_factory=dict)
    # People whose language a scheduled job found unknown or stale: the scheduler's "member
    # languages" job asks Slack (handlers.outgoing.refresh_member_languages).
    _language_queue: set[tuple[str, str]] = field(default_factory=set)
    # When this replica last looked for members with no or a stale language (domain clock).
    language_scan_at: dt.datetime | None = None
    # Each user's DM with the bot, shared with the outbox's gateway (outgoing.gateway).
    dms: DmChannels = field(default_factory=DmChannels)
    # (team, channel) → (when read, the forum's code and time zone, or None: no forum), for
    # the help's example reference without the database (handlers.commands.QuickHelp).
    _forum_codes: _Recent[tuple[str, str] | None] = field(default_factory=_Recent)
    # (team, user) → (when Slack said it, their name), for the owner pickers
    # (handlers.screens.member_names); kept as long as a language.
    _names: _Recent[str] = field(default_factory=_Recent)
    _lock: Lock = field(default_factory=Lock)

    def cached_names(self, team_id: str | None, users: Iterable[str]) -> dict[str, str]:
        """The names of ``users`` this replica learned within the hour (the others left out)."""
        now, ttl = self.monotonic(), self.locale_ttl_seconds
        with self._lock:
            hits = {u: self._names.get(team_id, u, now, ttl) for u in users}
        return {u: name for u, (known, name) in hits.items() if known and name is not None}

    def remember_name(self, team_id: str | None, user_id: str, name: str) -> None:
        with self._lock:
            self._names.put(team_id, user_id, self.monotonic(), name)

    def cached_forum_code(
        self, team_id: str | None, channel_id: str
    ) -> tuple[bool, tuple[str, str] | None]:
        """(read recently in this replica, the channel's forum's (code, time zone): None
        when it has no forum), without the database."""
        with self._lock:
            return self._forum_codes.get(
                team_id, channel_id, self.monotonic(), FORUM_CODE_TTL_SECONDS
            )

    def remember_forum_code(
        self, team_id: str | None, channel_id: str, code: tuple[str, str] | None
    ) -> None:
        with self._lock:
            self._forum_codes.put(team_id, channel_id, self.monotonic(), code)

    def forget_forum_codes(self) -> None:
        """A forum set up or changed in this replica: its channel's code is read anew."""
        with self._lock:
            self._forum_codes.clear()

    def queue_language(self, team_id: str | None, user_id: str) -> None:
        """Have the scheduler's "member languages" job ask Slack for this user's language."""
        if not team_id:
            return
        with self._lock:
            if len(self._language_queue) < MAX_QUEUED_LANGUAGES:
                self._language_queue.add((team_id, user_id))

    def take_language_queue(self) -> list[tuple[str, str]]:
        with self._lock:
            queued = sorted(self._language_queue)
            self._language_queue.clear()
        return queued

    def __deepcopy__(self, memo: dict[int, Any]) -> Deps:
        # Bolt deep-copies the request context for lazy listeners; the one Deps is shared.
        return self

    def remembered(self, team_id: str | None, user_id: str) -> tuple[bool, Locale | None]:
        """(known recently in this replica, the language: None when Slack named none we
        have), without asking Slack or the database."""
        with self._lock:
            return self._locales.get(team_id, user_id, self.monotonic(), self.locale_ttl_seconds)

    def cached_locale(self, team_id: str | None, user_id: str) -> Locale | None:
        """The user's locale if it was looked up recently and known, without calling Slack."""
        return self.remembered(team_id, user_id)[1]

    def remember_locale(self, team_id: str | None, user_id: str, locale: Locale | None) -> None:
        """Keep a language this replica learned (from Slack or the database) for an hour."""
        with self._lock:
            self._locales.put(team_id, user_id, self.monotonic(), locale)
            self._failed.pop((team_id or "", user_id), None)

    def stored_locales(self, team_id: str | None, users: Iterable[str] | None) -> dict[str, Stored]:
        """The languages the replicas stored (domain.languages) of ``users`` (None: all of
        the workspace's); the fresh ones are kept in this replica's cache. Read on the
        transaction this thread holds, if any (a request's or a job's: never a second
        pooled connection, see :func:`storage.db.held_session`), in a savepoint so that a
        failed read leaves it usable; else in a short read-only transaction of its own.
        Nothing when the database does not answer (the caller asks Slack or uses the
        forum's)."""
        wanted = list(users) if users is not None else None
        if not team_id or wanted == []:
            return {}

        try:
            caller = held_session(self.sessions)
            if caller is not None:
                # Neither flushed (the caller's pending changes are its own business) nor
                # able to abort the caller's transaction (PostgreSQL after a failed statement).
                with caller.no_autoflush, caller.connection().begin_nested():
                    found = _read_stored(caller, team_id, wanted)
            else:
                with reading(self.sessions) as session:
                    found = _read_stored(session, team_id, wanted)
        except Exception as exc:  # a language is never worth a failed request or job
            log.warning("stored languages not read: %s", exc.__class__.__name__)
            return {}
        now = self.clock.now()
        for user, row in found.items():
            if row.fresh(now):
                self.remember_locale(team_id, user, row.locale)
        return found

    def learned(self, team_id: str | None, found: dict[str, Locale | None]) -> None:
        """Languages Slack just gave (a lookup, the people check of the members modal): kept
        in this replica's cache and stored for the others in the background, in a short
        transaction of its own, never the request's (domain.languages.remember)."""
        for user, locale in found.items():
            self.remember_locale(team_id, user, locale)
        if team_id and found:
            _WRITES.submit(self._store, team_id, dict(found))

    def _store(self, team_id: str, found: dict[str, Locale | None]) -> None:
        try:
            languages.remember(self.sessions, self.clock, team_id, found)
        except Exception as exc:  # the next lookup or the scheduler's refresh stores it
            log.warning("languages not stored: %s", exc.__class__.__name__)

    def slack_locale(
        self, client: Any, team_id: str | None, user_id: str, *, store: bool = True
    ) -> Locale | None:
        """Ask Slack (``users.info``) for the user's locale; raises when Slack does not
        answer. What it says is kept (:meth:`learned`; only cached with ``store=False``,
        for a caller that stores it itself)."""
        info = client.users_info(user=user_id, include_locale=True)
        locale = supported_locale(info.get("user", {}).get("locale"))
        if store:
            self.learned(team_id, {user_id: locale})
        else:
            self.remember_locale(team_id, user_id, locale)
        return locale

    def failed_lately(self, team_id: str | None, user_id: str) -> bool:
        """Slack failed to say this user's locale less than a minute ago."""
        with self._lock:
            at = self._failed.get((team_id or "", user_id))
        return at is not None and self.monotonic() - at < FAILED_LOOKUP_SECONDS

    def lookup_failed(self, team_id: str | None, user_id: str) -> None:
        with self._lock:
            if len(self._failed) > 10_000:
                self._failed.clear()
            self._failed[(team_id or "", user_id)] = self.monotonic()

    def locales_without_slack(
        self, team_id: str | None, users: Iterable[str]
    ) -> tuple[dict[str, Locale | None], dict[str, Stored], list[str]]:
        """What is known of each user's language without asking Slack: ``(found, stored,
        ask)``. ``found``: cached in this replica, else stored by a replica within a day
        (one read for all), else, when Slack failed for them a moment ago, a stale stored
        one or None. ``stored``: the rows read. ``ask``: who only Slack can tell."""
        found: dict[str, Locale | None] = {}
        missing: list[str] = []
        for user in dict.fromkeys(users):
            looked_up, known = self.remembered(team_id, user)
            if looked_up:
                found[user] = known
            else:
                missing.append(user)
        stored = self.stored_locales(team_id, missing)
        now = self.clock.now()
        ask: list[str] = []
        for user in missing:
            row = stored.get(user)
            if row is not None and row.fresh(now):
                found[user] = row.locale
            elif self.failed_lately(team_id, user):
                found[user] = row.locale if row is not None else None
            else:
                ask.append(user)
        return found, stored, ask

    def ask_slack(
        self, client: Any, team_id: str | None, user_id: str, *, store: bool = True
    ) -> Locale | None:
        """:meth:`slack_locale`, a failure remembered for a minute (so one Slack hiccup
        does not give an English user Swedish for an hour); raises as it does."""
        try:
            return self.slack_locale(client, team_id, user_id, store=store)
        except Exception:
            self.lookup_failed(team_id, user_id)
            raise

    def known_locale(self, client: Any, team_id: str | None, user_id: str) -> Locale | None:
        """The user's own language (:meth:`locales_without_slack`, else their Slack locale,
        ``users.info``); None when Slack does not say or names a language we have no
        catalog for (the caller picks the fallback: the forum's for a DM, see
        :func:`domain.i18n.recipient_locale`)."""
        found, stored, ask = self.locales_without_slack(team_id, [user_id])
        if not ask:
            return found[user_id]
        try:
            return self.ask_slack(client, team_id, user_id)
        except Exception:  # a missing locale must never block the answer: the stale stored
            row = stored.get(user_id)
            return row.locale if row is not None else None

    def user_locale(self, client: Any, team_id: str | None, user_id: str) -> Locale:
        """The user's Slack locale (``users.info``), cached; Swedish when unknown."""
        return self.known_locale(client, team_id, user_id) or self.default_locale

    def translator(self, client: Any, team_id: str | None, user_id: str) -> Translator:
        return Translator(self.user_locale(client, team_id, user_id))

    def dm_channel(self, client: Any, team_id: str | None, user_id: str) -> str | None:
        """The id of the user's direct message with the bot (:class:`handlers.dm.DmChannels`,
        cached: it never changes). None when Slack does not say (the caller then leaves the
        DM alone)."""
        try:
            channel = self.dms.open(client, team_id, user_id)
        except Exception:  # unknown this time; asked again next time
            return None
        return channel if channel is not None and channel.startswith("D") else None


def settle_stores(timeout: float = 10.0) -> None:
    """Wait until the languages handed to :meth:`Deps.learned` so far are stored (one
    writer: what was queued before this is done when it returns)."""
    _WRITES.submit(lambda: None).result(timeout)


def _read_stored(session: Session, team_id: str, wanted: list[str] | None) -> dict[str, Stored]:
    """The stored languages of ``wanted`` (None: all of the workspace's)."""
    if wanted is not None:
        return languages.stored(session, team_id, wanted)
    return languages.stored_in_workspace(session, team_id)

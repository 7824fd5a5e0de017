"""What the Slack handlers need from the composition root (``bot``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from domain.clock import Clock
from domain.i18n import Locale, Translator, supported_locale
from domain.retention import RetentionPolicy
from handlers.dm import DmChannels


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
    _locales: dict[tuple[str, str], tuple[float, Locale | None]] = field(default_factory=dict)
    # Each user's DM with the bot, shared with the outbox's gateway (outgoing.gateway).
    dms: DmChannels = field(default_factory=DmChannels)
    _lock: Lock = field(default_factory=Lock)

    def __deepcopy__(self, memo: dict[int, Any]) -> Deps:
        # Bolt deep-copies the request context for lazy listeners; the one Deps is shared.
        return self

    def _remembered(self, team_id: str | None, user_id: str) -> tuple[bool, Locale | None]:
        """(looked up recently, what was found: None when Slack did not say)."""
        with self._lock:
            hit = self._locales.get((team_id or "", user_id))
        if hit and self.monotonic() - hit[0] < self.locale_ttl_seconds:
            return True, hit[1]
        return False, None

    def cached_locale(self, team_id: str | None, user_id: str) -> Locale | None:
        """The user's locale if it was looked up recently and known, without calling Slack."""
        return self._remembered(team_id, user_id)[1]

    def known_locale(self, client: Any, team_id: str | None, user_id: str) -> Locale | None:
        """The user's Slack locale (``users.info``), cached; None when Slack does not say
        or names a language we have no catalog for (the caller picks the fallback: the
        forum's for a DM, see :func:`domain.i18n.recipient_locale`)."""
        looked_up, known = self._remembered(team_id, user_id)
        if looked_up:
            return known
        key, now = (team_id or "", user_id), self.monotonic()
        locale: Locale | None = None
        stamp = now
        try:
            info = client.users_info(user=user_id, include_locale=True)
            locale = supported_locale(info.get("user", {}).get("locale"))
        except Exception:  # a missing locale must never block the answer
            # Remember the failure only for a minute, so one Slack hiccup does not give an
            # English user Swedish for an hour.
            stamp = now - self.locale_ttl_seconds + 60
        with self._lock:
            if len(self._locales) > 10_000:
                self._locales.clear()
            self._locales[key] = (stamp, locale)
        return locale

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

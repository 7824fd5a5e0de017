"""The one way out to Slack for the listeners: messages go into the outbox.

A listener queues every message it causes (channel posts, DMs, updates, file shares) with
these helpers in the same transaction as the change that causes it, then asks the outbox to
deliver now (:func:`deliver_now`; the scheduler would within its interval). A Slack outage
delays such a message instead of losing it. Only ``views.*``, ``response_url`` replies and
the ack itself go to Slack directly (tests/unit/test_one_way_out.py holds the line).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import actions as action_service
from domain import agenda as agenda_service
from domain import feedback as feedback_service
from domain import languages, scheduling
from domain import minutes as minutes_service
from domain import ratings as rating_service
from domain.access import Access
from domain.agenda import Agenda
from domain.clock import Clock
from domain.forums import local_today
from domain.i18n import Locale, LocaleOf, Translator, normalize_locale, recipient_translator
from handlers.blocks import actions as action_ui
from handlers.blocks import agenda as agenda_ui
from handlers.blocks import feedback as feedback_ui
from handlers.blocks import forum as forum_ui
from handlers.blocks import minutes as minutes_ui
from handlers.blocks import ratings as rating_ui
from handlers.deps import Deps
from handlers.gateway import Render, WebApiGateway
from handlers.screens import refresh_forum_homes, summarize
from storage.db import reading, transaction
from storage.models import Action, Forum, Meeting, OutboxMessage

log = logging.getLogger(__name__)


def _key(kind: str, key: str | None) -> str:
    # A listener's message is queued once per request; a fresh key unless the caller has
    # a natural one (the same key is only ever queued once).
    return f"{kind}:{key}" if key else f"{kind}:{uuid.uuid4().hex}"


def post_key(key: str) -> str:
    """The outbox key :func:`post` queues a message with a natural ``key`` under."""
    return _key("post", key)


def post(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    channel: str,
    message: dict[str, Any],
    key: str | None = None,
) -> str:
    """Queue a message to a channel (or to a person's DM, ``channel`` being their id).
    Returns the outbox key (an update or a thread reply can wait for it)."""
    dedupe_key = _key("post", key)
    scheduling.enqueue(
        session,
        clock,
        team_id=team_id,
        method="chat.postMessage",
        payload={**message, "channel": channel},
        dedupe_key=dedupe_key,
    )
    return dedupe_key


def update_posted(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    channel: str,
    key: str,
    message: dict[str, Any],
) -> bool:
    """Queue ``chat.update`` of the message :func:`post` queued under the natural ``key``,
    once it is sent (its ts filled in then): a case's channel announcement when the case is
    deleted. False when none was queued (or retention pruned it): nothing to update."""
    posted = post_key(key)
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == posted)) is None:
        return False
    return scheduling.enqueue(
        session,
        clock,
        team_id=team_id,
        method="chat.update",
        payload={
            **message,
            "channel": channel,
            scheduling.FILL: {"ts": posted},
            scheduling.AFTER: posted,
        },
        dedupe_key=_key("update", key),
    )


def tell(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    user_id: str,
    text: str,
    key: str | None = None,
) -> str:
    """Queue a direct message (plain mrkdwn text) to one person."""
    return post(session, clock, team_id=team_id, channel=user_id, message={"text": text}, key=key)


def tell_under(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    user_id: str,
    text: str,
    dedupe_key: str,
) -> bool:
    """Queue a direct message under the outbox key ``dedupe_key`` as it is (no prefix):
    a key the domain reads back to know what it told (a rating round's escalations).
    False when that key was queued already."""
    return scheduling.enqueue(
        session,
        clock,
        team_id=team_id,
        method="chat.postMessage",
        payload={"text": text, "channel": user_id},
        dedupe_key=dedupe_key,
    )


def action_created(
    session: Session,
    deps: Deps,
    client: WebClient,
    access: Access,
    action_id: int,
    *,
    team_id: str | None,
    by: str,
) -> None:
    """Queue the owner's DM about an action ``by`` just created (its card, with its
    buttons), in the owner's language, in the caller's transaction: an outage delays it,
    never loses it. Once an action (its dedupe key), however it was created: the action
    modal or the minutes. Nobody is told of an action they gave themselves (the
    hand-over's rule, :func:`domain.actions.told`)."""
    action = session.get(Action, action_id)  # just created: in the session, no query
    if action is None or not action_service.told(action.owner, by=by):
        return
    # The owner's view of it, not the creator's: a case their agency may not see shows
    # the action by its number only.
    row = action_service.owner_row(session, deps.clock, forum=access.forum, action_id=action_id)
    if not row.owner:
        return
    owner_t = recipient_t(deps, client, access.forum, row.owner)
    action_service.queue_dm(
        session,
        deps.clock,
        access.forum,
        row.owner,
        action_ui.created_dm(owner_t, row, local_today(access.forum, deps.clock), by=by),
        f"action_created:{action_id}",
    )


def update(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    channel: str,
    ts: str,
    message: dict[str, Any],
    key: str | None = None,
) -> str:
    """Queue ``chat.update`` of a message we posted (its channel and ts known)."""
    dedupe_key = _key("update", key)
    scheduling.enqueue(
        session,
        clock,
        team_id=team_id,
        method="chat.update",
        payload={**message, "channel": channel, "ts": ts},
        dedupe_key=dedupe_key,
    )
    return dedupe_key


def share_file(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    user_id: str,
    data: bytes,
    filename: str,
    comment: str,
    alt_text: str | None = None,
) -> str:
    """Queue a file for the person's DM with the bot (never a channel); an image has
    ``alt_text``. The file's bytes leave the outbox row once it is delivered."""
    payload = scheduling.upload_payload(
        channel=user_id, filename=filename, title=filename, data=data, alt_text=alt_text
    )
    payload["initial_comment"] = comment
    dedupe_key = _key("file", None)
    scheduling.enqueue(
        session,
        clock,
        team_id=team_id,
        method=scheduling.UPLOAD_METHOD,
        payload=payload,
        dedupe_key=dedupe_key,
    )
    return dedupe_key


def _route(deps: Deps, client: WebClient) -> Callable[[str | None], WebClient]:
    """Each workspace's client (``client`` serves only a Deps built without the composition
    root's clients)."""
    by_team = deps.client_for_team
    return by_team if by_team is not None else (lambda _team: client)


def deliver_now(deps: Deps, client: WebClient) -> None:
    """Send what was just queued now (the scheduler would, within its interval). A failure
    leaves it queued; the scheduler retries. Everything due goes, other workspaces'
    messages too, so each with its own workspace's client: the request's client has the
    token of the workspace that asked (``client`` serves only a Deps built without the
    composition root's clients)."""
    try:
        scheduling.deliver(
            deps.sessions, deps.clock, gateway(deps, _route(deps, client)), replica="listener"
        )
    except Exception as exc:  # the outbox keeps it; the scheduler sends it later
        log.warning("immediate delivery failed, the scheduler retries: %s", exc)


_LOOKUPS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="samverkan-locale")
LOOKUP_SECONDS = 1.0
# After a lookup Slack did not answer in time, a job asks that workspace's next ones without
# waiting for this long (the answers still land in the cache when they come).
SLOW_SLACK_SECONDS = 60.0


def known_locales(
    deps: Deps,
    client: WebClient,
    team_id: str | None,
    users: Iterable[str],
    *,
    seconds: float = LOOKUP_SECONDS,
) -> dict[str, Locale | None]:
    """Each person's own language: cached in this replica, else stored by any replica
    within a day (one read for all of them), else their Slack locale, looked up at once,
    at most ``seconds`` in all; a stored one older than a day when Slack does not say in
    time, else None (late, failed, unsupported), so an ack is never held long by Slack.
    What Slack says is stored for the other replicas, after the lookup and in a
    transaction of its own."""
    found, stored, ask = deps.locales_without_slack(team_id, users)
    pending = {user: _LOOKUPS.submit(deps.ask_slack, client, team_id, user) for user in ask}
    deadline = time.monotonic() + seconds
    for user, future in pending.items():
        try:
            found[user] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except Exception:  # late or failed: the stored or the forum's, never a late ack
            row = stored.get(user)
            found[user] = row.locale if row is not None else None
    return found


def translators(
    deps: Deps,
    client: WebClient,
    forum: Forum,
    users: Iterable[str],
    *,
    seconds: float = LOOKUP_SECONDS,
) -> dict[str, Translator]:
    """Each recipient's translator for the DMs a listener queues about ``forum`` on one
    person's action: theirs (:func:`known_locales`), else the forum's, else Swedish."""
    known = known_locales(deps, client, forum.team_id, users, seconds=seconds)
    return {
        user: recipient_translator(lambda _team, who: known[who], forum, user) for user in known
    }


def recipient_t(deps: Deps, client: WebClient, forum: Forum, user: str) -> Translator:
    """One recipient's translator (:func:`translators`)."""
    return translators(deps, client, forum, [user])[user]


def locale_lookup(
    deps: Deps,
    client_for_team: Callable[[str | None], WebClient],
    *,
    budget: float | None = None,
) -> LocaleOf:
    """The recipients' own languages for the domain's DMs a request queues: looked up
    with each workspace's client (:func:`known_locales`); None (the forum's language)
    when the workspace has no client at hand. With ``budget`` (seconds) the lookups
    share it, from the first one: a request that updates many
    people's DMs asks Slack one person after another, so without it a slow Slack held the
    answer a second per person. A person not known in time gets the forum's language; the
    lookup goes on and is kept for the next time."""
    deadline: float | None = None
    # Workspaces whose Slack was late a moment ago: a job DMing 400 people of a workspace
    # whose Slack hangs would otherwise hold its transaction (and its claims) 400 s.
    late_until: dict[str, float] = {}

    def locale_of(team_id: str | None, user: str) -> Locale | None:
        nonlocal deadline
        try:
            client = client_for_team(team_id)
        except Exception:  # no installation for the workspace: the forum's language
            return None
        seconds = LOOKUP_SECONDS
        if budget is not None:
            if deadline is None:
                deadline = time.monotonic() + budget
            seconds = max(0.0, deadline - time.monotonic())
        started = time.monotonic()
        if late_until.get(team_id or "", 0.0) > started:
            seconds = 0.0
        known = known_locales(deps, client, team_id, [user], seconds=seconds)[user]
        if seconds > 0 and known is None and time.monotonic() - started >= seconds:
            late_until[team_id or ""] = time.monotonic() + SLOW_SLACK_SECONDS
        return known

    return locale_of


def dm_locales(deps: Deps) -> LocaleOf:
    """:func:`locale_lookup` with the composition root's clients, for a request: every
    lookup within one second in all, so the answer is never late (Slack gives up after
    three); only what is cached when the Deps has none (a test's bare Deps)."""
    if deps.client_for_team is not None:
        return locale_lookup(deps, deps.client_for_team, budget=LOOKUP_SECONDS)
    return deps.cached_locale


def job_locales(deps: Deps) -> LocaleOf:
    """The recipients' own languages for a scheduled job's DMs, without ever asking Slack
    (a job asks inside its transaction): this replica's cache, else the language a replica
    stored (domain.languages; a workspace's rows read at once, the first time one of its
    people is not in the cache, and kept for the tick: ``locale_of`` is made once per
    tick). A person with no stored language, or one older than a day, is queued
    for the scheduler's "member languages" job (:func:`refresh_member_languages`); until
    then an unknown one gets the forum's language, a stale one the stored."""
    read: dict[str, dict[str, languages.Stored]] = {}  # each workspace's rows, this tick
    lock = threading.Lock()

    def locale_of(team_id: str | None, user: str) -> Locale | None:
        if not team_id:
            return None
        looked_up, known = deps.remembered(team_id, user)
        if looked_up:
            return known
        with lock:  # the agendas' workers ask at once: the workspace is read once
            rows = read.get(team_id)
            if rows is None:
                rows = read[team_id] = deps.stored_locales(team_id, None)
        row = rows.get(user)
        if row is None or not row.fresh(deps.clock.now()):
            deps.queue_language(team_id, user)
        return row.locale if row is not None else None

    return locale_of


# At most this many users.info per workspace and tick from the "member languages" job
# (Slack allows users.info about 100 a minute; this leaves the requests most of it).
LANGUAGE_LOOKUPS_PER_WORKSPACE = 20
# The job's Slack lookups stop after this many seconds in a tick (the rest waits a tick).
LANGUAGE_REFRESH_SECONDS = 10.0
# How often a replica looks for forum members with no or a stale language.
LANGUAGE_SCAN_EVERY = dt.timedelta(minutes=5)
# Slack's answer when it will never name this person's language: the forum's is stored.
_NO_LANGUAGE = frozenset({"user_not_found", "user_not_visible"})
# Slack's errors about the token, the app, the workspace, the request every lookup makes, or
# Slack itself: the workspace's lookups wait for the next tick. Any other error is about the
# person asked (that person is skipped, the others asked). ``account_inactive`` is about the
# bot's token (a deleted workspace or user of the token; a deactivated member is answered,
# ``deleted``).
_WORKSPACE_ERRORS = frozenset(
    {
        "ratelimited",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "missing_scope",
        "no_permission",
        "not_allowed_token_type",
        "access_denied",
        "ekm_access_denied",
        "enterprise_is_restricted",
        "org_login_required",
        "team_access_not_granted",
        "two_factor_setup_required",
        "team_added_to_org",
        "accesslimited",
        "fatal_error",
        "internal_error",
        "service_unavailable",
        "request_timeout",
        "deprecated_endpoint",
        "method_deprecated",
        "invalid_arguments",
        "invalid_arg_name",
        "invalid_array_arg",
        "invalid_charset",
        "invalid_form_data",
        "invalid_post_type",
        "missing_post_type",
    }
)


def _error_about_the_person(exc: SlackApiError) -> str | None:
    """The error, when Slack's answer is about the person asked, not the workspace as a
    whole (:data:`_WORKSPACE_ERRORS`, a rate limit, a server error, no error named)."""
    response = exc.response
    data = getattr(response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    status = getattr(response, "status_code", 200)
    if not isinstance(error, str) or not error or status == 429 or status >= 500:
        return None
    return None if error in _WORKSPACE_ERRORS else error


def refresh_member_languages(
    deps: Deps,
    client_for_team: Callable[[str | None], WebClient],
    *,
    per_workspace: int = LANGUAGE_LOOKUPS_PER_WORKSPACE,
    seconds: float = LANGUAGE_REFRESH_SECONDS,
) -> int:
    """The scheduler's "member languages" job: asks Slack the language of the people the
    jobs queued (:func:`job_locales`) and, every few minutes, of the active forum members
    with no stored language or one older than a day; at most ``per_workspace`` lookups a
    workspace per tick, one at a time, never in a transaction. Every replica runs it: the
    people it is about to ask are claimed first (:func:`domain.languages.claim_asks`), so
    two replicas never ask about the same person at once; one another holds is left to it.
    What Slack says is stored in a short transaction per workspace. A person Slack answers
    with an error about them is skipped (not asked again for an hour; never named: the
    forum's language is stored); a workspace whose Slack is late or failing as a whole
    waits for the next tick. Returns how many languages were learned."""
    now = deps.clock.now()
    wanted: dict[str, list[str]] = {}
    for team_id, user in deps.take_language_queue():
        wanted.setdefault(team_id, []).append(user)
    if deps.language_scan_at is None or now - deps.language_scan_at >= LANGUAGE_SCAN_EVERY:
        deps.language_scan_at = now
        with transaction(deps.sessions) as session:
            languages.forget_departed(session, now)
            languages.forget_asks(session, now)
            due = languages.due_for_refresh(session, now, per_team=per_workspace)
        for team_id, users in due.items():
            wanted.setdefault(team_id, []).extend(users)
    deadline = time.monotonic() + seconds
    learned = 0
    for team_id, users in wanted.items():
        users = list(dict.fromkeys(users))
        if time.monotonic() >= deadline:  # out of time: the next tick
            for user in users:
                deps.queue_language(team_id, user)
            continue
        try:
            client = client_for_team(team_id)
        except Exception:  # no installation for the workspace: nothing to ask
            continue
        for user in users[per_workspace:]:  # the next tick's
            deps.queue_language(team_id, user)
        asking = languages.claim_asks(deps.sessions, deps.clock, team_id, users[:per_workspace])
        found, not_told, asked = _ask_languages(deps, client, team_id, asking, deadline)
        unasked = asking[asked:]
        for user in unasked:
            deps.queue_language(team_id, user)
        if found:
            languages.remember(deps.sessions, deps.clock, team_id, found)
            learned += len(found)
        languages.hold_asks(deps.sessions, deps.clock, team_id, released=unasked, not_told=not_told)
    return learned


def _ask_languages(
    deps: Deps, client: WebClient, team_id: str, users: list[str], deadline: float
) -> tuple[dict[str, Locale | None], list[str], int]:
    """Ask Slack each person's language, one at a time, until ``deadline`` (monotonic) or an
    answer about the workspace as a whole: ``(found, not_told, asked)``, ``not_told`` the
    people Slack answered with another error about them, ``asked`` how many of ``users``
    were asked and answered (the rest wait: the one the workspace's failure stopped at too)."""
    found: dict[str, Locale | None] = {}
    not_told: list[str] = []
    for n, user in enumerate(users):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return found, not_told, n
        future = _LOOKUPS.submit(deps.slack_locale, client, team_id, user, store=False)
        try:
            found[user] = future.result(timeout=min(LOOKUP_SECONDS, remaining))
        except SlackApiError as exc:
            error = _error_about_the_person(exc)
            if error is None:
                return found, not_told, n  # rate-limited or failing: the next tick
            if error in _NO_LANGUAGE:
                found[user] = None
            else:
                log.info("users.info refused a member's language: %s", error)
                not_told.append(user)
        except Exception:  # late or unreachable: the next tick
            return found, not_told, n
    return found, not_told, len(users)


def surveys_now(deps: Deps, client: WebClient, case_id: int) -> None:
    """Queue the feedback surveys of a case just closed and send them (the scheduler would
    within a minute). Only that case's: what the close made due, so its cost does not grow
    with other forums' (other workspaces') due surveys, which the scheduler sends. Claims
    make it safe next to the scheduler. The recipients' languages
    are learned first, outside any transaction (cached, stored, else asked of Slack, at
    most a second in all); the transaction that queues the DMs only reads them
    (:func:`job_locales`), so a slow Slack never holds it."""
    try:
        with reading(deps.sessions) as session:
            recipients = feedback_service.due_recipients(session, deps.clock, case_id=case_id)
        route = _route(deps, client)
        deadline = time.monotonic() + LOOKUP_SECONDS
        for team_id, users in recipients.items():
            try:
                team_client = route(team_id)
            except Exception:  # no installation for the workspace: the stored or the forum's
                continue
            remaining = max(0.0, deadline - time.monotonic())
            known_locales(deps, team_client, team_id, users, seconds=remaining)
        with transaction(deps.sessions) as session:
            feedback_service.send_due(
                session,
                deps.clock,
                feedback_ui.SurveyDMs(),
                replica="listener",
                locale_of=job_locales(deps),
                case_id=case_id,
            )
    except Exception as exc:  # the scheduler sends them at its next pass
        log.warning("feedback surveys not sent at once: %s", exc)
        return
    deliver_now(deps, client)


def send_file(
    deps: Deps,
    client: WebClient,
    team_id: str | None,
    user_id: str,
    *,
    data: bytes,
    filename: str,
    comment: str,
    alt_text: str | None = None,
) -> None:
    """A file for the person's DM, queued on its own (an export changes nothing it could
    share a transaction with) and delivered now."""
    with transaction(deps.sessions) as session:
        share_file(
            session,
            deps.clock,
            team_id=team_id,
            user_id=user_id,
            data=data,
            filename=filename,
            comment=comment,
            alt_text=alt_text,
        )
    deliver_now(deps, client)


def tell_now(deps: Deps, client: WebClient, team_id: str | None, user_id: str, text: str) -> None:
    """A DM to one person about an outcome after the ack: queued on its own and delivered
    now (prefer :func:`tell` in the transaction of the change the DM is about)."""
    try:
        with transaction(deps.sessions) as session:
            tell(session, deps.clock, team_id=team_id, user_id=user_id, text=text)
    except Exception as exc:  # best effort, as the direct post was
        log.warning("could not queue a DM: %s", exc.__class__.__name__)
        return
    deliver_now(deps, client)


# --- the forum's channel announcement, kept current ---------------------------------------

ANNOUNCEMENT = "forum_created"


def announcement_key(forum_id: int) -> str:
    return f"{ANNOUNCEMENT}:{forum_id}"


def announcement(session: Session, deps: Deps, forum: Forum) -> dict[str, Any]:
    summary = summarize(session, deps, forum)  # for everyone: no "you"
    t = Translator(normalize_locale(forum.language, deps.default_locale))
    return {"channel": forum.channel_id, **forum_ui.forum_created_message(t, summary)}


def queue_announcement_update(
    session: Session, deps: Deps, forum: Forum, *, skip_locked: bool = False
) -> bool:
    """Bring the forum's channel announcement up to date (its member count, schedule,
    agencies) through the outbox: chat.update of the posted message, rendered when it is
    sent, so one update queued and not yet sent covers any number of changes (saves in a
    row cost a lookup and a touch, not a rendering). Nothing when it was never posted
    through the outbox (older forums).

    ``skip_locked``: the transaction holds a lock on the forum's row (adding members), which
    a deliverer holding the update may wait for: wait for no deliverer
    (:func:`scheduling.enqueue_update`)."""
    return queue_announcement_update_of(
        session, deps, team_id=forum.team_id, forum_id=forum.id, skip_locked=skip_locked
    )


def queue_announcement_update_of(
    session: Session, deps: Deps, *, team_id: str, forum_id: int, skip_locked: bool = False
) -> bool:
    """:func:`queue_announcement_update` by the forum's id."""
    update = announcement_update(team_id=team_id, forum_id=forum_id)
    return scheduling.enqueue_update(
        session,
        deps.clock,
        team_id=update.team_id,
        key=update.key,
        render=update.render,
        args=update.args,
        skip_locked=skip_locked,
    )


def announcement_update(*, team_id: str, forum_id: int) -> scheduling.UpdateOf:
    """The update of the forum's channel announcement, for a change that queues it with its
    own write (the settings save: ``domain.forums.save_forum_settings``)."""
    return scheduling.UpdateOf(
        team_id=team_id,
        key=announcement_key(forum_id),
        render=ANNOUNCEMENT,
        args={"forum_id": forum_id},
    )


def renderers(deps: Deps) -> dict[str, Render]:
    """What the outbox renders when it delivers (``scheduling.enqueue_update``), by name."""

    def forum_announcement(session: Session, args: Mapping[str, Any]) -> dict[str, Any] | None:
        forum = session.get(Forum, int(args["forum_id"]))
        return announcement(session, deps, forum) if forum is not None else None

    return {ANNOUNCEMENT: forum_announcement}


def gateway(
    deps: Deps, client_for_team: Callable[[str | None], WebClient], **kwargs: Any
) -> WebApiGateway:
    """The outbox's way to Slack, able to render what is rendered when it is sent. A post
    that shows the bot can no longer post in a forum's channel, or can again, publishes its
    members' App Home anew (it says so)."""

    def reach_changed(team_id: str, forum_id: int) -> None:
        refresh_forum_homes(deps, client_for_team(team_id), team_id, forum_id)

    return WebApiGateway(
        client_for_team,
        renderers=renderers(deps),
        dms=deps.dms,
        on_reach_changed=reach_changed,
        **kwargs,
    )


# --- rendering used by the scheduler too --------------------------------------------------


def render_agenda(agenda: Agenda) -> list[dict[str, Any]]:
    """The posted agenda in the forum's language."""
    return agenda_ui.agenda_messages(
        Translator(agenda.locale),
        agenda,
        picture_blocks=rating_ui.picture_blocks,
        show_picture_section=agenda.picture_expected,
        action_button=action_ui.follow_up_button,
    )


def render_preview(agenda: Agenda) -> dict[str, Any]:
    return agenda_ui.agenda_preview(
        Translator(agenda.locale), agenda, picture_blocks=rating_ui.picture_blocks
    )


def publish_changes(deps: Deps, session: Session, meeting: Meeting, forum: Forum) -> bool:
    """Queue the update of a posted agenda and of the coordinators' preview DMs (each only
    once there is one). True when something is to be sent."""
    return refresh_agenda(session, deps.clock, meeting, forum, locale_of=dm_locales(deps))


def refresh_agenda(
    session: Session,
    clock: Clock,
    meeting: Meeting,
    forum: Forum,
    *,
    locale_of: LocaleOf | None = None,
) -> bool:
    """The posted agenda and the preview DMs of ``meeting``, updated in place (the morning
    DMs in their recipients' languages, ``locale_of``)."""
    posted = agenda_service.publish_update(
        session, clock, meeting, forum, render_agenda, picture=rating_service.picture_for_meeting
    )
    previews = agenda_service.refresh_previews(
        session,
        clock,
        meeting,
        forum,
        render_preview,
        picture=rating_service.picture_for_meeting,
        locale_of=locale_of,
    )
    # The morning DMs already sent for the meeting (slots, link), updated in place too.
    previews += minutes_service.refresh_meeting_dms(
        session, clock, meeting, forum, minutes_ui.morning_dm, locale_of=locale_of
    )
    return posted or previews > 0


def picture_ready(
    session: Session, clock: Clock, meeting_id: int, *, locale_of: LocaleOf | None = None
) -> None:
    """A rating round closed: the meeting's preview (sent while the round was open) and its
    agenda, if already posted, now show the picture (domain.ratings calls this in the
    transaction that closes the round)."""
    meeting = session.get(Meeting, meeting_id)
    forum = session.get(Forum, meeting.forum_id) if meeting else None
    if meeting is not None and forum is not None:
        refresh_agenda(session, clock, meeting, forum, locale_of=locale_of)

"""Screens several listeners show: App Home (the user's forums and their open actions) and
a case's modal (with its actions). Here, not in one listener module, so listener modules
need not import each other."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from domain import actions as action_service
from domain import cases as case_service
from domain import corrections, disclosure, scheduling
from domain import forums as forum_service
from domain import meetings as meeting_service
from domain import minutes as minutes_service
from domain.access import Access
from domain.errors import CaseChangeRefused, DomainError, NotCoordinator
from domain.i18n import Translator
from handlers.blocks import actions as ui
from handlers.blocks import cases as case_ui
from handlers.blocks import forum as forum_ui
from handlers.blocks import minutes as minutes_ui
from handlers.blocks.actions import add_case_actions
from handlers.blocks.common import Block
from handlers.blocks.home import HomeParts, HomeSection
from handlers.deps import Deps
from handlers.errors import database_errors, failure_text
from handlers.metadata import DeviationMeta, ViewMeta
from storage.db import reading, transaction
from storage.models import CaseStatus, Forum, Meeting, Role

log = logging.getLogger(__name__)


def _today(access: Access, deps: Deps) -> dt.date:
    return forum_service.local_today(access.forum, deps.clock)


def summarize(
    session: Session,
    deps: Deps,
    forum: Forum,
    *,
    user_id: str | None = None,
    with_representatives: bool = False,
) -> forum_ui.ForumSummary:
    schedule = forum_service.forum_schedule(forum)
    members = forum_service.active_members(session, forum)
    you = next((m for m in members if m.slack_user_id == user_id), None)
    agencies = forum_service.active_agencies(forum)
    representatives = (
        [
            (
                agency.name,
                [
                    m.slack_user_id
                    for m in members
                    if m.agency_id == agency.id and m.role != Role.REVIEWER
                ],
            )
            for agency in agencies
        ]
        if with_representatives
        else []
    )
    return forum_ui.ForumSummary(
        name=forum.name,
        code=forum.code,
        channel_id=forum.channel_id,
        agencies=[a.name for a in agencies],
        areas=[a.name for a in forum_service.active_areas(forum)],
        # Planned meetings: holidays, moves and cancellations applied.
        next_meetings=[
            m.starts_at for m in meeting_service.upcoming(session, deps.clock, forum, count=3)
        ],
        timezone=schedule.zone,
        rrule=forum.schedule_rrule,
        member_count=len(members),
        your_role=you.role.value if you else None,
        your_agency=you.agency.name if you else None,
        start=schedule.start,
        end=schedule.end,
        # Only a member asking sees that the bot cannot post in the channel.
        channel_refused=scheduling.channel_refused(forum) if you else None,
        your_away_until=(
            you.away_until
            if you
            and you.away_until
            and you.away_until >= forum_service.local_today(forum, deps.clock)
            else None
        ),
        representatives=representatives,
    )


def home_actions(
    session: Session, deps: Deps, t: Translator, *, team_id: str, user_id: str
) -> HomeSection:
    rows, total = action_service.my_open_actions(
        session, deps.clock, team_id=team_id, slack_user_id=user_id
    )
    # Each action's "today" is its forum's (the forums may be in different time zones).
    days = action_service.forum_days(session, deps.clock, {row.forum_id for row in rows})
    return ui.home_section(t, rows, total, days)


def case_view_blocks(
    session: Session,
    deps: Deps,
    t: Translator,
    access: Access,
    *,
    case_id: int,
    reference: str,
    details: bool,
    closed: bool = False,
) -> list[Block]:
    rows = action_service.actions_for_case(session, deps.clock, access=access, case_id=case_id)
    return ui.case_actions_blocks(
        t, rows, reference=reference, today=_today(access, deps), details=details, closed=closed
    )


def home_view(deps: Deps, t: Translator, team_id: str, user_id: str) -> dict[str, Any]:
    """The App Home tab: the user's forums, "mina insatser" (their open actions), "Inför
    mötet" and a coordinator's deviations to follow up, within Slack's 100 blocks
    (handlers.blocks.home: what does not fit is told in a line per section)."""
    try:
        with database_errors(), transaction(deps.sessions) as session:
            forums = forum_service.forums_of_user(session, team_id=team_id, slack_user_id=user_id)
            summaries = [summarize(session, deps, f, user_id=user_id) for f in forums]
            parts = HomeParts(forums=forum_ui.home_forums_section(t, summaries))
            if forums:
                # "Inför mötet": the next meeting of each forum, with cases.
                preps = minutes_service.next_preparations(
                    session, deps.clock, team_id=team_id, user_id=user_id
                )
                # Coordinators: the deviations waiting for their follow-up.
                waiting = case_service.open_deviations(
                    session, team_id=team_id, slack_user_id=user_id
                )
                parts = HomeParts(
                    forums=parts.forums,
                    actions=home_actions(session, deps, t, team_id=team_id, user_id=user_id),
                    preparations=minutes_ui.home_section(t, preps),
                    deviations=case_ui.open_deviations_section(t, waiting),
                )
        return forum_ui.home_tab(t, parts)
    except Exception as exc:  # the user opened the tab: show why it is empty
        if not isinstance(exc, DomainError):
            log.exception("App Home failed")
        return forum_ui.home_error_view(t, failure_text(t, exc))


def refresh_home(deps: Deps, client: WebClient, team_id: str, user_ids: list[str]) -> None:
    """Publish these people's App Home anew, after what they may see shrank (they left the
    channel, were removed, moved to another agency): Slack keeps the Home tab as last
    published, with the forum's cases (Inför mötet) and actions, until it is published
    again. Best effort: a failure is logged, the change stands."""
    for user_id in dict.fromkeys(user_ids):
        try:
            t = deps.translator(client, team_id, user_id)
            client.views_publish(user_id=user_id, view=home_view(deps, t, team_id, user_id))
        except Exception as exc:  # the next app_home_opened publishes it anyway
            log.warning("App Home not refreshed: %s", exc.__class__.__name__)


def refresh_forum_homes(deps: Deps, client: WebClient, team_id: str, forum_id: int) -> None:
    """Publish anew the App Home of the forum's members (in this workspace only), after
    what it shows of the forum changed: whether the bot can post in its channel."""
    with database_errors(), reading(deps.sessions) as session:
        forum = session.get(Forum, forum_id)
        users = (
            [m.slack_user_id for m in forum_service.active_members(session, forum)]
            if forum is not None and forum.team_id == team_id
            else []
        )
    refresh_home(deps, client, team_id, users)


def refresh_lost_readers(
    deps: Deps, client: WebClient, team_id: str, before: frozenset[str], after: frozenset[str]
) -> None:
    """After a case's consent was withdrawn or expired, or a legal ground ended: the members
    who could see its details (``before``, :func:`domain.disclosure.case_readers`) and no
    longer can (not in ``after``) get their App Home published anew, without the case's
    details (Inför mötet: concerns, age band, what was agreed; their actions in it)."""
    refresh_home(deps, client, team_id, sorted(before - after))


def case_door(
    session: Session,
    deps: Deps,
    context: BoltContext,
    case_id: int | None,
    surface_name: str = "case_modal",
    not_found: tuple[type[Exception], ...] = (),
) -> AbstractContextManager[None]:
    """A modal or button naming a case by its id (the case modal's changes: status, closing,
    consent withdrawn, legal hold; the legal ground's modal), or a ground of a case
    (``not_found``: the surface's own error for an id of another forum or of nothing;
    ``case_id`` None: no such ground, recorded as ``?`` in the workspace's log): a refusal at
    the door (another forum's case, another workspace's, none) is audited as an attempt at
    ``surface_name`` (the case's modal unless told), and told as before. So is a change a
    member of the forum may not make (:class:`CaseChangeRefused`: not the raising agency or
    a coordinator, or a detail their agency may not see), naming the change."""
    return disclosure.refusals_audited(
        session,
        deps.clock,
        team_id=context.team_id or "",
        slack_user_id=context.user_id or "",
        case_id=case_id,
        surface_name=surface_name,
        not_found=(CaseChangeRefused, *not_found),
    )


def deviation_door(
    session: Session, deps: Deps, context: BoltContext, deviation_id: int
) -> AbstractContextManager[None]:
    """A refusal at the deviation's door (another forum's, another workspace's, none; a
    member who is no coordinator submitting a follow-up) is audited as an attempt at the
    deviation's view, and told as before."""
    return disclosure.refusals_audited(
        session,
        deps.clock,
        team_id=context.team_id or "",
        slack_user_id=context.user_id or "",
        surface_name=case_service.FOLLOW_UP_SURFACE,
        deviation_id=deviation_id,
        not_found=(case_service.DeviationNotFound, NotCoordinator),
    )


def deviation_view(
    deps: Deps, t: Translator, context: BoltContext, deviation_id: int
) -> dict[str, Any]:
    """A deviation and its follow-up (an audited read): opened from the DM or App Home, and
    shown anew under a correction or masking of its text or note (handlers.corrections),
    so the follow-up form beneath no longer carries the old text to be saved back."""
    with database_errors(), transaction(deps.sessions) as session:
        with deviation_door(session, deps, context, deviation_id):
            access = case_service.access_for_deviation(
                session,
                team_id=context.team_id or "",
                deviation_id=deviation_id,
                slack_user_id=context.user_id or "",
            )
            view = case_service.read_deviation(
                session, deps.clock, access=access, deviation_id=deviation_id
            )
        tz = forum_service.forum_schedule(access.forum).zone
        meta = DeviationMeta(
            locale=t.locale, deviation_id=deviation_id, forum_id=access.forum.id
        ).model_dump_json()
    return case_ui.deviation_view_modal(t, view, tz=tz, private_metadata=meta)


def meeting_door(
    session: Session,
    deps: Deps,
    context: BoltContext,
    meeting_id: int,
    surface_name: str = "agenda",
) -> AbstractContextManager[None]:
    """Any door naming a meeting by its id: the agenda's (add an item, edit the agenda,
    time slots: their buttons and submissions), the meeting menu's and its modals' (move,
    cancel, attendance), and the minutes' (``surface_name``: the form shows the decisions
    of the meeting's cases). A refusal at the door (another forum's meeting, another
    workspace's, none; a non-member) is audited in the meeting's forum as an attempt at
    ``surface_name`` (the agenda unless told), naming the meeting, and told as before ("the
    meeting no longer exists"). A member without the role is told so, not audited: the
    agenda is every member's to see."""
    return disclosure.refusals_audited(
        session,
        deps.clock,
        team_id=context.team_id or "",
        slack_user_id=context.user_id or "",
        surface_name=surface_name,
        meeting_id=meeting_id,
        not_found=(meeting_service.MeetingNotFound,),
    )


def meeting_access(
    session: Session,
    deps: Deps,
    context: BoltContext,
    meeting_id: int,
    *,
    coordinator: bool = True,
    surface_name: str = "agenda",
) -> tuple[Access, Meeting]:
    """:func:`domain.meetings.meeting_access` for the user of the request, through
    :func:`meeting_door`: the meeting named by its id and the user's access to its forum (a
    coordinator's, or with ``coordinator=False`` any member's). The minutes' doors pass
    their surface (:data:`domain.minutes.MINUTES_SURFACE`)."""
    with meeting_door(session, deps, context, meeting_id, surface_name):
        return meeting_service.meeting_access(
            session,
            team_id=context.team_id or "",
            user_id=context.user_id or "",
            meeting_id=meeting_id,
            coordinator=coordinator,
        )


def text_door(
    session: Session,
    deps: Deps,
    context: BoltContext,
    field: corrections.Field,
    object_id: int,
    not_found: tuple[type[Exception], ...] = (),
) -> AbstractContextManager[None]:
    """A correction or masking of a text by its id (the corrections' buttons and modals,
    masking from the agenda's item menu or the meeting menu): any text, a case's, an
    action's, a deviation's, a cancelled meeting's note, an agenda item's, or a comment on a
    rating (its round's comments). A refusal at the door (the text of another forum's case,
    action, deviation, meeting, item or round, of none; ``not_found``: the surface's own
    errors besides TextNotFound) is audited, as the rule audits every other look at it. A
    rating of no round names nothing: recorded as ``?`` in the workspace's log."""
    kind = corrections.kind_of(field)
    surface_name = corrections.surface_of(field)
    if kind == "case":
        return case_door(session, deps, context, object_id, surface_name, not_found)
    ids = {kind: object_id}
    return disclosure.refusals_audited(
        session,
        deps.clock,
        team_id=context.team_id or "",
        slack_user_id=context.user_id or "",
        surface_name=surface_name,
        action_id=ids.get("action"),
        deviation_id=ids.get("deviation"),
        meeting_id=ids.get("meeting"),
        agenda_item_id=ids.get("agenda_item"),
        round_id=corrections.rating_round_of(session, object_id) if kind == "rating" else None,
        not_found=(corrections.TextNotFound, *not_found),
    )


def case_access(
    session: Session, meta: ViewMeta, team_id: str, user_id: str, *, by_channel: bool = False
) -> Access:
    """The member's access to the forum of ``meta``: its ``forum_id``, or with
    ``by_channel`` the forum of its ``channel_id`` (ForumNotFound when there is none)."""
    # The forum alone: its agencies load when a path needs them (a case read does not).
    if by_channel:
        return forum_service.require_member_in_channel(
            session, team_id=team_id, channel_id=meta.channel_id or "", slack_user_id=user_id
        )
    forum = forum_service.get_forum(
        session, forum_id=meta.forum_id or 0, team_id=team_id, with_lists=False
    )
    return forum_service.require_member(session, forum=forum, slack_user_id=user_id)


def detail_view(
    deps: Deps,
    t: Translator,
    meta: ViewMeta,
    team_id: str,
    user_id: str,
    case_id: int,
    *,
    by_channel: bool = False,
) -> dict[str, Any]:
    """The case modal for this member; showing it is an audited read. ``by_channel``: the
    forum is the one of ``meta.channel_id`` (a case opened from the channel's case list),
    looked up in the read's own transaction; the modal's metadata names it. Otherwise a
    ``meta`` naming no forum (the case DM's button) asks membership of the case's own
    forum."""
    with database_errors(), transaction(deps.sessions) as session:
        with disclosure.refusals_audited(
            session,
            deps.clock,
            team_id=team_id,
            slack_user_id=user_id,
            case_id=case_id,
            surface_name="case_modal",
        ):
            access = (
                case_access(session, meta, team_id, user_id, by_channel=by_channel)
                if by_channel or meta.forum_id is not None
                else case_service.access_for_case(
                    session, team_id=team_id, case_id=case_id, slack_user_id=user_id
                )
            )
            view = case_service.read_case(session, deps.clock, access=access, case_id=case_id)
        tz = forum_service.forum_schedule(access.forum).zone
        linked = case_view_blocks(
            session,
            deps,
            t,
            access,
            case_id=case_id,
            reference=view.reference,
            details=view.details,
            closed=view.status is CaseStatus.CLOSED,
        )
    case_meta = meta.model_copy(update={"case_id": case_id, "forum_id": access.forum.id})
    modal = case_ui.case_detail_modal(t, view, tz=tz, private_metadata=case_meta.dump())
    return add_case_actions(modal, linked)


# How long opening a modal waits for Slack to name the people its owner pickers offer.
NAME_LOOKUP_SECONDS = 1.0
_name_lookups = ThreadPoolExecutor(max_workers=8, thread_name_prefix="samverkan-names")


def _name_of(client: WebClient, user: str) -> str:
    info = client.users_info(user=user).get("user") or {}
    return str(info.get("real_name") or info.get("name") or "")


def member_names(
    deps: Deps, client: WebClient, team_id: str | None, users: Iterable[str]
) -> dict[str, str]:
    """The names of ``users`` for an owner picker's options (plain text, which shows no
    mention): known in this replica, else asked of Slack in parallel, within
    :data:`NAME_LOOKUP_SECONDS` (a modal's trigger is valid for 3 s), without retries.
    Whoever Slack did not name in time is left out (the picker is then the people picker).
    Never asked inside a transaction."""
    wanted = list(dict.fromkeys(users))
    names = deps.cached_names(team_id, wanted)
    missing = [u for u in wanted if u not in names]
    if not missing:
        return names
    quick = WebClient(token=client.token, base_url=client.base_url, timeout=2)
    deadline = time.monotonic() + NAME_LOOKUP_SECONDS
    futures = {u: _name_lookups.submit(_name_of, quick, u) for u in missing}
    try:
        for user, future in futures.items():
            try:
                name = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except Exception as exc:  # out of time or refused: the people picker instead
                log.info("no name for an owner picker: %r", exc)
                continue
            if name:
                names[user] = name
                deps.remember_name(team_id, user, name)
    finally:
        for future in futures.values():
            future.cancel()
    return names


def display_names(client: WebClient, users: set[str]) -> dict[str, str]:
    """Display names for the plan (best effort: the Slack id when a lookup fails)."""
    names: dict[str, str] = {}
    for user in sorted(users)[:100]:
        try:
            info = client.users_info(user=user).get("user") or {}
            names[user] = str(info.get("real_name") or info.get("name") or user)
        except Exception:
            names[user] = user
    return names

"""Every place a user types text, driven through the real app over signed HTTP.

A :class:`World` is one forum set up through the app (the create modal, the members modal)
with a case, an action and a rating round to work on. Each :class:`Surface` first *opens*
what the user would open (modals whose ``private_metadata`` the submission needs; opening
may itself write, e.g. an audited read) and then *submits* a text the test chooses. The
retention test uses them to create every kind of free text; the logging test submits while
the database refuses every write and looks for the texts in the server's output.

Works against the in-process ``bot`` fixture and against a real ``samverkan serve``
process alike: it only needs a :class:`SlackDriver`, the Web API stand-in and the database.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sandbox.webapi import SlackWebApiStub
from storage.db import transaction
from storage.models import Action, Case, Forum, Meeting, MeetingStatus
from tests.support.blockkit import all_text
from tests.support.slack_driver import (
    Response,
    SlackDriver,
    date_value,
    multi_select_values,
    multi_users_values,
    plain_value,
    radio_value,
    select_value,
    time_value,
    users_value,
)
from tests.support.wait import eventually

CHANNEL = "C0001"
ADMIN, ELEVHALSA, SOCIAL, POLIS, NEWCOMER = "U1", "U2", "U3", "U4", "U5"
AGENCIES = ("Grundskola", "Elevhälsa", "Socialtjänst/IFO", "Polis")
AREAS = ("Gråbo", "Hemse")


@dataclass
class World:
    driver: SlackDriver
    slack: SlackWebApiStub
    sessions: sessionmaker[Session]
    tick: Callable[[], object]  # one pass of the scheduler (or wait for the real one)
    forum_id: int = 0
    agencies: dict[str, int] = field(default_factory=dict)
    areas: dict[str, int] = field(default_factory=dict)

    def meta(self, **extra: Any) -> str:
        return json.dumps(
            {"locale": "sv", "channel_id": CHANNEL, "forum_id": self.forum_id, **extra}
        )

    def reply_after(self, send: Callable[[], Response]) -> str:
        """Send a command or button and return the text of the ephemeral answer."""
        before = self.slack.count("response_url")
        send()
        reply = self.slack.wait_for("response_url", count=before + 1, timeout=15)[-1]
        return all_text(reply.args) + " " + str(reply.args.get("text", ""))

    def opened(self, send: Callable[[], Response]) -> dict[str, Any]:
        before = self.slack.count("views.open")
        send()
        view: dict[str, Any] = self.slack.wait_for("views.open", count=before + 1, timeout=15)[
            -1
        ].args["view"]
        return view

    def latest(self, model: Any) -> Any:
        with self.sessions() as s:
            return s.scalars(select(model).order_by(model.id.desc())).first()


def _blocks(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "input", "block_id": block_id} for block_id in values]


def _submit(
    world: World,
    callback_id: str,
    values: dict[str, Any],
    *,
    user: str,
    private_metadata: str,
    view_id: str = "V0001",
) -> Response:
    """A submission of the modal ``callback_id`` with an input block for each of ``values``."""
    return world.driver.view_submission(
        callback_id,
        values,
        user=user,
        private_metadata=private_metadata,
        view_id=view_id,
        blocks=_blocks(values),
    )


def forum_values(
    name: str, *, code: str = "FOS", areas: str = "Gråbo\nHemse", other: str | None = None
) -> dict[str, Any]:
    return {
        "name.0": {"value": plain_value(name)},
        "code.0": {"value": plain_value(code)},
        "agencies.0": {"value": multi_select_values(list(AGENCIES))},
        "agencies_other.0": {"value": plain_value(other)},
        "own_agency.0": {"value": select_value("Grundskola")},
        "rrule.0": {"value": plain_value("FREQ=WEEKLY;BYDAY=TH")},
        "start.0": {"value": time_value("13:00")},
        "end.0": {"value": time_value("15:00")},
        "areas.0": {"value": plain_value(areas)},
    }


def case_values(world: World, summary: str, *, consent: bool = True) -> dict[str, Any]:
    a = world.agencies
    return {
        "summary": {"value": plain_value(summary)},
        "concerns": {"value": multi_select_values(["school_absence"])},
        "age_band": {"value": radio_value("13-15")},
        "agencies": {"value": multi_select_values([str(a["Elevhälsa"]), str(a["Polis"])])},
        "consent": {"value": radio_value("guardians" if consent else "none")},
        "consent_agencies": {
            "value": multi_select_values([str(a["Elevhälsa"])] if consent else [])
        },
        "consent_given_on": {"value": date_value("2026-11-20" if consent else None)},
        "consent_expires_on": {"value": date_value(None)},
        "sip": {"value": radio_value("not_relevant")},
    }


def build_world(world: World) -> World:
    """The forum and its members, through the app's own modals."""
    values = forum_values("FOSSAM")
    answer = _submit(
        world,
        "forum_create",
        values,
        user=ADMIN,
        private_metadata=json.dumps({"locale": "sv", "channel_id": CHANNEL}),
    )
    assert answer.json() is None, answer.body
    with transaction(world.sessions) as s:
        forum = s.scalars(select(Forum).where(Forum.channel_id == CHANNEL)).one()
        forum.settings = {**(forum.settings or {}), "situation_picture": "every"}
        world.forum_id = forum.id
        world.agencies = {a.name: a.id for a in forum.agencies}
        world.areas = {a.name: a.id for a in forum.areas}
    for user, agency in ((ELEVHALSA, "Elevhälsa"), (SOCIAL, "Socialtjänst/IFO"), (POLIS, "Polis")):
        assert add_members(world, [user], agency).status == 200
    return world


def add_members(world: World, users: list[str], agency: str) -> Response:
    values = {
        "users": {"value": multi_users_values(users)},
        "agency": {"value": select_value(str(world.agencies[agency]))},
        "role": {"value": radio_value("member")},
    }
    return _submit(world, "forum_members", values, user=ADMIN, private_metadata=world.meta())


def submit_case(world: World, summary: str, *, consent: bool = True, view_id: str = "") -> Response:
    values = case_values(world, summary, consent=consent)
    return _submit(
        world,
        "case_new",
        values,
        user=ELEVHALSA,
        private_metadata=world.meta(),
        view_id=view_id or f"VC{abs(hash(summary)) % 10**8}",
    )


def raise_case(world: World, summary: str, *, consent: bool = True, view_id: str = "") -> Case:
    answer = submit_case(world, summary, consent=consent, view_id=view_id)
    assert answer.json() is None, answer.body
    case: Case = world.latest(Case)
    return case


def submit_action(world: World, description: str, hoped: str, *, case: str = "") -> Response:
    values = {
        "description": {"value": plain_value(description)},
        "agency": {"value": select_value(str(world.agencies["Elevhälsa"]))},
        "owner": {"value": users_value(ELEVHALSA)},
        "due_on": {"value": date_value(dt.date(2026, 12, 3))},
        "case": {"value": plain_value(case)},
        "area": {"value": select_value(None)},
        "hoped_effect": {"value": plain_value(hoped)},
    }
    return _submit(
        world,
        "action_new",
        values,
        user=ELEVHALSA,
        private_metadata=world.meta(),
        view_id=f"VA{abs(hash(description)) % 10**8}",
    )


def new_action(world: World, description: str, hoped: str, *, case: str = "") -> Action:
    answer = submit_action(world, description, hoped, case=case)
    assert answer.json() is None, answer.body
    action: Action = world.latest(Action)
    return action


def rating_view(world: World, user: str = POLIS) -> dict[str, Any]:
    """Open the rating modal from the channel (``/samverkan lägesbild bedöm``) once the
    scheduler has opened the round."""
    from storage.models import RatingRound, RatingRoundStatus

    def round_open() -> bool:
        world.tick()
        with world.sessions() as s:
            return (
                s.scalars(
                    select(RatingRound.id).where(RatingRound.status == RatingRoundStatus.OPEN)
                ).first()
                is not None
            )

    eventually(round_open, timeout=30, interval=0.5)
    return world.opened(lambda: world.driver.command("lägesbild bedöm", user=user))


def rating_values(view: dict[str, Any], comment: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        block_id = block.get("block_id", "")
        if block_id.startswith("level_"):
            values[block_id] = {"value": select_value("3")}
        elif block_id.startswith("comment_"):
            values[block_id] = {"value": plain_value(comment)}
    return values


def first_meeting(world: World) -> Meeting:
    with world.sessions() as s:
        meeting: Meeting = s.scalars(
            select(Meeting)
            .where(Meeting.forum_id == world.forum_id, Meeting.status == MeetingStatus.PLANNED)
            .order_by(Meeting.starts_at)
        ).first()  # type: ignore[assignment]
        return meeting


# --- the surfaces ------------------------------------------------------------------------------

Opened = dict[str, Any]


@dataclass(frozen=True)
class Surface:
    """One place a user types text. ``open`` runs before the test makes the database refuse
    writes (it may write: an audited read); ``submit`` sends the typed ``text``."""

    name: str
    open: Callable[[World], Opened]
    submit: Callable[[World, Opened, str], Response]
    modal: bool = True  # a modal: a failure must keep the input (errors on a field)


def _nothing(world: World) -> Opened:
    return {}


def _open_forum_edit(world: World) -> Opened:
    return world.opened(lambda: world.driver.command("forum", user=ADMIN))


def _submit_forum_edit(world: World, view: Opened, text: str) -> Response:
    values = forum_values(text[:80])
    return _submit(
        world, "forum_edit", values, user=ADMIN, private_metadata=view["private_metadata"]
    )


def _submit_members(world: World, _: Opened, text: str) -> Response:
    return add_members(world, [NEWCOMER], "Polis")


def _submit_case(world: World, _: Opened, text: str) -> Response:
    return submit_case(world, text)


def _open_case(world: World) -> Opened:
    case = raise_case(world, "Ett ärende att stänga", view_id="VCLOSE")
    return {"case_id": case.id, "reference": case.reference}


def _submit_close(world: World, opened: Opened, text: str) -> Response:
    values = {
        "outcome": {"value": plain_value(text)},
        "effect": {"value": radio_value("partly")},
        "sip_started": {"value": {"type": "checkboxes", "selected_options": []}},
    }
    return _submit(
        world,
        "case_close",
        values,
        user=ELEVHALSA,
        private_metadata=world.meta(case_id=opened["case_id"]),
    )


def _submit_deviation(world: World, opened: Opened, text: str) -> Response:
    values = {
        "agencies": {"value": multi_select_values([str(world.agencies["Polis"])])},
        "kind": {"value": select_value("information")},
        "text": {"value": plain_value(text)},
        "case": {"value": plain_value(opened.get("reference") or "")},
    }
    return _submit(world, "deviation_new", values, user=SOCIAL, private_metadata=world.meta())


def _open_deviation(world: World) -> Opened:
    return {}


def _submit_action(world: World, _: Opened, text: str) -> Response:
    return submit_action(world, text, text + " (effekt)")


def _open_action(world: World) -> Opened:
    action = new_action(world, "En insats att ändra", "Bättre närvaro")
    return {"action_id": action.id}


def _open_done_action(world: World) -> Opened:
    action = new_action(world, "En insats att följa upp", "Bättre närvaro")
    world.reply_after(
        lambda: world.driver.block_action("action_done", user=ELEVHALSA, value=str(action.id))
    )
    return {"action_id": action.id}


def _action_meta(world: World, opened: Opened) -> str:
    return json.dumps(
        {"locale": "sv", "forum_id": world.forum_id, "action_id": opened["action_id"]}
    )


def _submit_postpone(world: World, opened: Opened, text: str) -> Response:
    values = {
        "due_on": {"value": date_value(dt.date(2026, 12, 17))},
        "reason": {"value": plain_value(text)},
    }
    return _submit(
        world,
        "action_postpone",
        values,
        user=ELEVHALSA,
        private_metadata=_action_meta(world, opened),
    )


def _submit_cancel_action(world: World, opened: Opened, text: str) -> Response:
    values = {"reason": {"value": plain_value(text)}}
    return _submit(
        world,
        "action_cancel",
        values,
        user=ELEVHALSA,
        private_metadata=_action_meta(world, opened),
    )


def _submit_follow_up(world: World, opened: Opened, text: str) -> Response:
    values = {"effect": {"value": radio_value("partly")}, "comment": {"value": plain_value(text)}}
    return _submit(
        world,
        "action_follow_up",
        values,
        user=ELEVHALSA,
        private_metadata=_action_meta(world, opened),
    )


def _open_rating(world: World) -> Opened:
    return rating_view(world)


def _submit_rating(world: World, view: Opened, text: str) -> Response:
    return world.driver.view_submission(
        "rating_submit",
        rating_values(view, text),
        user=POLIS,
        private_metadata=view["private_metadata"],
        blocks=view["blocks"],
    )


def _submit_item(world: World, _: Opened, text: str) -> Response:
    return world.driver.command(f"punkt {text}", user=SOCIAL)


def _open_meeting(world: World) -> Opened:
    return {"meeting_id": first_meeting(world).id}


def _submit_cancel(world: World, opened: Opened, text: str) -> Response:
    values = {"reason": {"reason": {"type": "plain_text_input", "value": text}}}
    return world.driver.view_submission(
        "meeting_cancel",
        values,
        user=ADMIN,
        private_metadata=json.dumps(
            {"locale": "sv", "forum_id": world.forum_id, "meeting_id": opened["meeting_id"]}
        ),
        blocks=_blocks(values),
    )


def _open_hold(world: World) -> Opened:
    case = raise_case(world, "Ett ärende att spärra", view_id="VHOLD")
    return {"reference": case.reference}


def _submit_hold(world: World, opened: Opened, text: str) -> Response:
    return world.driver.command(f"gallring stopp {opened['reference']} {text}", user=ADMIN)


def _open_ground(world: World) -> Opened:
    case = raise_case(world, "Ett ärende med annan grund", consent=False, view_id="VGROUND")
    return world.opened(lambda: world.driver.command(f"grund {case.reference}", user=ADMIN))


def _submit_ground(world: World, view: Opened, text: str) -> Response:
    values = {
        "agency": {"value": select_value(str(world.agencies["Socialtjänst/IFO"]))},
        "ground": {"value": radio_value("necessary")},
        "decided_on": {"value": date_value("2026-11-20")},
        "note": {"value": plain_value(text)},
    }
    return world.driver.view_submission(
        "privacy_legal_ground",
        values,
        user=ADMIN,
        private_metadata=view["private_metadata"],
        blocks=[b for b in view["blocks"] if b.get("type") == "input"],
    )


SURFACES: tuple[Surface, ...] = (
    Surface("forum settings", _open_forum_edit, _submit_forum_edit),
    Surface("member add", _nothing, _submit_members),
    Surface("case", _nothing, _submit_case),
    Surface("case close (outcome)", _open_case, _submit_close),
    Surface("deviation", _open_deviation, _submit_deviation),
    Surface("action", _nothing, _submit_action),
    Surface("action new date (reason)", _open_action, _submit_postpone),
    Surface("action follow-up (comment)", _open_done_action, _submit_follow_up),
    Surface("rating answer (comment)", _open_rating, _submit_rating),
    Surface("agenda item", _nothing, _submit_item, modal=False),
    Surface("meeting cancel (reason)", _open_meeting, _submit_cancel),
    Surface("legal hold (reason)", _open_hold, _submit_hold, modal=False),
    Surface("legal ground (note)", _open_ground, _submit_ground),
)


# --- a database that refuses every write ------------------------------------------------------


def refuse_writes(sessions: sessionmaker[Session]) -> None:
    """From now on every INSERT and UPDATE fails in the database itself: on PostgreSQL
    with a CHECK that rejects every new row (its error repeats the whole row, what the
    user typed included), on SQLite with triggers."""
    from storage.models import Base

    with transaction(sessions) as s:
        postgres = s.get_bind().dialect.name == "postgresql"
        for table in Base.metadata.sorted_tables:
            if postgres:
                name = table.name
                s.execute(
                    _sql(f'ALTER TABLE "{name}" ADD CONSTRAINT zz_refuse CHECK (false) NOT VALID')
                )
            else:
                for event in ("INSERT", "UPDATE"):
                    s.execute(
                        _sql(
                            f'CREATE TRIGGER "zz_refuse_{table.name}_{event.lower()}" '
                            f'BEFORE {event} ON "{table.name}" '
                            "BEGIN SELECT RAISE(ABORT, 'writes refused'); END"
                        )
                    )


def allow_writes(sessions: sessionmaker[Session]) -> None:
    from storage.models import Base

    with transaction(sessions) as s:
        postgres = s.get_bind().dialect.name == "postgresql"
        for table in Base.metadata.sorted_tables:
            if postgres:
                s.execute(_sql(f'ALTER TABLE "{table.name}" DROP CONSTRAINT IF EXISTS zz_refuse'))
            else:
                for event in ("insert", "update"):
                    s.execute(_sql(f'DROP TRIGGER IF EXISTS "zz_refuse_{table.name}_{event}"'))


def _sql(statement: str) -> Any:
    from sqlalchemy import text

    return text(statement)

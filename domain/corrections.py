"""Correct and redact free text (rättelse och maskering).

Identifying text the privacy guard cannot know (a name) may slip into a summary or a
comment. Whoever wrote it (for a case: its raising agency) or a coordinator corrects it; a
coordinator masks any free text in the forum. Either way the old text is kept nowhere: the
row is overwritten, copies of it are overwritten too (history notes, rolled-over agenda
items, Slack messages still in the outbox), and the audit log says *that* the field changed
and by whom, never what it said.

Reading the text for the edit modal goes through the disclosure rule (``*_edit`` surfaces),
so nobody is shown, or edits, what they may not see. New text passes the privacy guard
(:func:`domain.privacy.check_fields`) and the same length limits as where it was written.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import flag_modified

from domain import audit, disclosure, privacy
from domain.access import Access
from domain.clock import Clock
from domain.errors import (
    CaseNotFound,
    DomainError,
    IdentifyingDataRefused,
    InputErrors,
    InvalidInput,
    NotCoordinator,
)
from domain.forums import local_today
from domain.i18n import N_, N_plural
from storage.models import (
    Action,
    ActionEvent,
    AgendaItem,
    AuditAction,
    Case,
    Deviation,
    Meeting,
    OutboxMessage,
    Rating,
    RatingRound,
)

# What masked text reads as, everywhere it was.
REDACTED = "[maskerad]"


class Field(enum.StrEnum):
    CASE_SUMMARY = "case.summary"
    CASE_OUTCOME = "case.outcome"
    ACTION_DESCRIPTION = "action.description"
    ACTION_HOPED_EFFECT = "action.hoped_effect"
    ACTION_COMMENT = "action.follow_up_comment"
    DEVIATION_TEXT = "deviation.text"
    DEVIATION_NOTE = "deviation.follow_up_note"
    AGENDA_TEXT = "agenda_item.text"
    RATING_COMMENT = "rating.comment"
    MEETING_NOTE = "meeting.note"


# The most each field may hold (as where it is first written).
MAX_LENGTH: dict[Field, int] = {
    Field.CASE_SUMMARY: 1000,
    Field.CASE_OUTCOME: 1000,
    Field.ACTION_DESCRIPTION: 1000,
    Field.ACTION_HOPED_EFFECT: 500,
    Field.ACTION_COMMENT: 500,
    Field.DEVIATION_TEXT: 2000,
    Field.DEVIATION_NOTE: 1000,
    Field.AGENDA_TEXT: 300,
    Field.RATING_COMMENT: 500,
    Field.MEETING_NOTE: 200,
}
# Fields that must hold text (an empty correction is refused; masking writes REDACTED).
REQUIRED = {Field.CASE_SUMMARY, Field.ACTION_DESCRIPTION, Field.DEVIATION_TEXT}

_SURFACE = {
    "case": "case_edit",
    "action": "action_edit",
    "deviation": "deviation_edit",
    "agenda_item": "agenda_item_edit",
    "rating": "rating_comments",
    "meeting": "meeting_note_edit",
}


def kind_of(field: Field) -> str:
    """What holds the text (``case``, ``action``, ``agenda_item``, …): the field's table."""
    return field.value.split(".", 1)[0]


def surface_of(field: Field) -> str:
    """The disclosure surface a look at the text is audited as (its refusals at the door
    too)."""
    return _SURFACE[kind_of(field)]


NOT_ALLOWED = NotCoordinator(
    N_("Only whoever wrote it (for a case: its agency) or a coordinator can correct this text.")
)


class TextNotFound(InvalidInput):
    """No text of that id in the reader's forum (none at all, or another forum's)."""

    msgid = N_("That text no longer exists in this forum.")


NOT_FOUND = TextNotFound()


class TextGone(DomainError):
    """The text of the member's own forum that is gone since their view was drawn (an
    agenda item taken off the agenda: a stale button): told as :class:`TextNotFound`, but
    no refusal is audited (the door audits TextNotFound: another forum's text, or none)."""

    msgid = TextNotFound.msgid


@dataclass(frozen=True)
class Editable:
    """A text as the edit/mask modal shows it."""

    field: Field
    object_id: int
    label_ref: str  # the reference or number it belongs to
    text: str
    may_edit: bool
    may_redact: bool


def _load(session: Session, access: Access, field: Field, object_id: int) -> tuple[Any, int]:
    """The row holding ``field`` and its forum id (refused when it is in another forum)."""
    table = field.value.split(".", 1)[0]
    obj: Any
    forum_id: int | None = None
    if table == "case":
        obj = session.scalar(
            select(Case)
            .options(joinedload(Case.raising_agency))
            .where(Case.id == object_id, Case.forum_id == access.forum.id)
        )
        disclosure.load_cases(session, [object_id])
        forum_id = obj.forum_id if obj else None
    elif table == "action":
        obj = session.get(Action, object_id)
        if obj is not None and obj.case_id is not None:
            disclosure.load_cases(session, [obj.case_id])
        forum_id = obj.forum_id if obj else None
    elif table == "deviation":
        obj = session.get(Deviation, object_id)
        forum_id = obj.forum_id if obj else None
    elif table == "agenda_item":
        obj = session.get(AgendaItem, object_id)
        meeting = session.get(Meeting, obj.meeting_id) if obj else None
        forum_id = meeting.forum_id if meeting else None
        if obj is not None and obj.removed:
            if forum_id == access.forum.id:
                raise TextGone()
            obj = None
    elif table == "rating":
        obj = session.get(Rating, object_id)
        rating_round = session.get(RatingRound, obj.round_id) if obj else None
        forum_id = rating_round.forum_id if rating_round else None
    else:
        obj = session.get(Meeting, object_id)
        forum_id = obj.forum_id if obj else None
    if obj is None or forum_id != access.forum.id:
        if table == "case":  # an attempt at another forum's case (audited as refused)
            raise CaseNotFound(NOT_FOUND.msgid)
        raise NOT_FOUND
    return obj, forum_id


def rating_round_of(session: Session, rating_id: int) -> int | None:
    """The round of a rating (whose comments a rating's comment is one of), None for no
    rating."""
    rating = session.get(Rating, rating_id) if rating_id > 0 else None
    return rating.round_id if rating is not None else None


def _disclose(
    session: Session, clock: Clock, access: Access, field: Field, obj: Any, forum_id: int
) -> disclosure.Decision:
    table = field.value.split(".", 1)[0]
    target: Any = obj
    if table == "rating":
        target = session.get(RatingRound, obj.round_id)
    return disclosure.disclose(
        session,
        clock,
        access,
        target,
        surface_name=_SURFACE[table],
        forum_id=forum_id,
    )


def _may_edit(access: Access, field: Field, obj: Any) -> bool:
    """Who corrects (not masks) a text: its writer, or a coordinator."""
    user = access.member.slack_user_id
    if access.is_coordinator:
        return True
    if isinstance(obj, Case):
        return access.member.agency_id == obj.raising_agency_id
    if isinstance(obj, Action):
        if field is Field.ACTION_COMMENT:
            return obj.followed_up_by == user
        return obj.created_by == user
    if isinstance(obj, Deviation):
        # The follow-up's note is its coordinator's writing, not the reporter's.
        if field is Field.DEVIATION_NOTE:
            return obj.followed_up_by == user
        return obj.reported_by == user
    if isinstance(obj, AgendaItem):
        return obj.added_by == user
    return False


def _ref(obj: Any) -> str:
    if isinstance(obj, Case):
        return obj.reference
    return f"#{obj.id}"


def _get(obj: Any, field: Field) -> str | None:
    value = getattr(obj, field.value.split(".", 1)[1])
    return str(value) if value is not None else None


def editable(
    session: Session, clock: Clock, *, access: Access, field: Field, object_id: int
) -> Editable:
    """The text for the edit/mask modal: an audited read through the disclosure rule;
    refused when the reader may neither correct nor mask it."""
    obj, forum_id = _load(session, access, field, object_id)
    decision = _disclose(session, clock, access, field, obj, forum_id)
    may_edit = decision.allowed and _may_edit(access, field, obj)
    may_redact = decision.allowed and access.is_coordinator
    if not (may_edit or may_redact):
        raise NOT_ALLOWED
    return Editable(field, obj.id, _ref(obj), _get(obj, field) or "", may_edit, may_redact)


def correct(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    field: Field,
    object_id: int,
    text: str,
) -> None:
    """Replace the text with a corrected one (guarded like the original; field errors keep
    the modal's input). The old text is overwritten wherever it was copied."""
    obj, forum_id = _load(session, access, field, object_id)
    decision = disclosure.decide(
        access,
        obj if not isinstance(obj, Rating) else session.get(RatingRound, obj.round_id),
        local_today(access.forum, clock),
        forum_id=forum_id,
    )
    if not (decision.allowed and _may_edit(access, field, obj)):
        raise NOT_ALLOWED
    new = text.strip()
    errors: dict[str, DomainError] = {}
    today = local_today(access.forum, clock)
    for fld, msgid in privacy.check_fields({"text": new}, today=today).items():
        errors[fld] = IdentifyingDataRefused(msgid, field=fld)
    if not new and field in REQUIRED:
        errors.setdefault("text", InvalidInput(N_("Write the corrected text."), field="text"))
    if len(new) > MAX_LENGTH[field]:
        errors.setdefault(
            "text",
            InvalidInput(
                N_plural(
                    "The text can be at most {n} character.",
                    "The text can be at most {n} characters.",
                ),
                field="text",
                n=MAX_LENGTH[field],
            ),
        )
    if errors:
        raise InputErrors(errors)
    _replace(session, clock, access, field, obj, new or None, change="corrected")


def redact(
    session: Session, clock: Clock, *, access: Access, field: Field, object_id: int
) -> Meeting | None:
    """A coordinator masks the text (it reads :data:`REDACTED` from now on, everywhere it
    was copied). Returns the meeting of a masked agenda item (to update a posted agenda)."""
    obj, forum_id = _load(session, access, field, object_id)
    target = obj if not isinstance(obj, Rating) else session.get(RatingRound, obj.round_id)
    decision = disclosure.decide(
        access, target, local_today(access.forum, clock), forum_id=forum_id
    )
    if not (access.is_coordinator and decision.allowed):
        raise NotCoordinator(N_("Only a coordinator who may see the text can mask it."))
    if not _get(obj, field):
        raise InvalidInput(N_("There is no text to mask."))
    _replace(session, clock, access, field, obj, REDACTED, change="redacted")
    if isinstance(obj, AgendaItem):
        return session.get(Meeting, obj.meeting_id)
    return None


def _replace(
    session: Session,
    clock: Clock,
    access: Access,
    field: Field,
    obj: Any,
    new: str | None,
    *,
    change: str,
) -> None:
    table, column = field.value.split(".", 1)
    old = _get(obj, field)
    setattr(obj, column, new)
    if hasattr(obj, "updated_at"):
        obj.updated_at = clock.now()
    if old:
        _scrub_copies(session, access, field, obj, old, new or "")
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.UPDATE,
        object_type=table,
        object_ref=_ref(obj).lstrip("#"),
        detail={"field": column, "change": change},
    )
    session.flush()


def _scrub_copies(
    session: Session, access: Access, field: Field, obj: Any, old: str, new: str
) -> None:
    """Overwrite the copies of ``old``: the action's history notes, rolled-over agenda items,
    and every outbox payload of this workspace that still holds it (pending or sent)."""
    if isinstance(obj, Action):
        for event in session.scalars(
            select(ActionEvent).where(ActionEvent.action_id == obj.id, ActionEvent.note == old)
        ):
            event.note = new or None
    if isinstance(obj, AgendaItem):
        meeting_ids = select(Meeting.id).where(Meeting.forum_id == access.forum.id)
        for item in session.scalars(
            select(AgendaItem).where(
                AgendaItem.meeting_id.in_(meeting_ids),
                AgendaItem.text == old,
                AgendaItem.id != obj.id,
            )
        ):
            item.text = new
    scrub_outbox(session, team_id=access.forum.team_id, old=old, new=new)


def _replace_in(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _replace_in(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_in(v, old, new) for v in value]
    return value


def scrub_outbox(session: Session, *, team_id: str, old: str, new: str) -> int:
    """Replace ``old`` in every outbox payload of the workspace (Block Kit escapes & < >, so
    the escaped form is replaced too). Returns how many rows changed."""
    forms = {old, old.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")}
    needles = {json.dumps(f, ensure_ascii=False)[1:-1] for f in forms} | {
        json.dumps(f)[1:-1] for f in forms
    }
    changed = 0
    for needle in needles:
        rows = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.team_id == team_id,
                cast(OutboxMessage.payload, String).contains(needle),
            )
        ).all()
        for row in rows:
            payload = row.payload
            for form in forms:
                payload = _replace_in(payload, form, new)
            if payload != row.payload:
                row.payload = payload
                flag_modified(row, "payload")
                changed += 1
    return changed

"""The guard at the storage edge (domain/privacy_wall.py) on both databases: whatever writes a
free-text column — the unit of work, an ORM insert or update statement, a job or a CLI command
that never passed a listener — identifying data and over-long text are refused and nothing is
stored."""

from __future__ import annotations

from typing import cast

import pytest
from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from domain import actions, agenda, audit, cases, legal_grounds, meetings, privacy_wall, ratings
from domain import forums as fs
from domain.clock import AdjustableClock
from domain.errors import IdentifyingDataRefused, TextTooLong
from domain.inventory import INVENTORY, Category
from domain.privacy import MSGIDS
from domain.privacy_wall import guarded_columns
from storage.db import transaction
from storage.models import AgendaItem, AuditAction, AuditEvent, Deviation, Meeting, Rating
from tests.conftest import DEFAULT_NOW
from tests.support.forums import forum_draft
from tests.support.personnummer import pnr

CHILD = pnr("170110", "238")


def test_every_guarded_text_column_has_a_limit_and_the_forms_use_the_same() -> None:
    guarded = guarded_columns()
    for table, columns in guarded.items():
        for column in columns:
            assert column.json or column.max_length, f"{table}.{column.column} has no max_length"
    # Every free-text or case-detail column is either guarded or not text (dates, enums).
    texts = {f"{t}.{c.column}" for t, cs in guarded.items() for c in cs}
    assert {"meetings.note", "cases.outcome", "deviations.text", "cases.summary"} <= texts
    limit = {f"{t}.{c.column}": c.max_length for t, cs in guarded.items() for c in cs}
    assert limit["cases.summary"] == cases.SUMMARY_MAX
    assert limit["cases.outcome"] == cases.OUTCOME_MAX
    assert limit["deviations.text"] == cases.DEVIATION_TEXT_MAX
    assert limit["meetings.note"] == meetings.CANCEL_REASON_MAX
    assert limit["agenda_items.text"] == agenda.ITEM_TEXT_MAX
    assert limit["ratings.comment"] == ratings.COMMENT_MAX
    assert limit["actions.description"] == actions.DESCRIPTION_MAX
    assert limit["actions.hoped_effect"] == actions.HOPED_EFFECT_MAX
    assert limit["actions.follow_up_comment"] == actions.COMMENT_MAX
    assert limit["action_events.note"] == max(actions.REASON_MAX, actions.COMMENT_MAX)
    assert limit["legal_grounds.note"] == legal_grounds.NOTE_MAX
    # Names are shown in channels: guarded too, at the forms' limits.
    assert limit["forums.name"] == fs.NAME_MAX
    assert limit["agencies.name"] == fs.AGENCY_MAX
    assert limit["areas.name"] == fs.AREA_MAX
    for name, spec_table in INVENTORY.items():
        for column_name, spec in spec_table.columns.items():
            if spec.max_length is not None:
                assert spec.guarded or spec.category in (Category.FREE_TEXT, Category.CASE_DETAIL)
                assert f"{name}.{column_name}" in texts


@pytest.fixture
def forum_ids(sessions: sessionmaker[Session], clock: AdjustableClock) -> dict[str, int]:
    with transaction(sessions) as s:
        forum = fs.create_forum(
            s, clock, team_id="T0001", channel_id="C0001", actor="U1", draft=forum_draft()
        )
        meetings.sync_meetings(s, clock, forum)
        s.flush()
        meeting = s.scalars(select(Meeting).where(Meeting.forum_id == forum.id)).first()
        assert meeting is not None
        return {"forum": forum.id, "agency": forum.agencies[0].id, "meeting": meeting.id}


def deviation(ids: dict[str, int], text: str) -> Deviation:
    now = DEFAULT_NOW
    return Deviation(
        created_at=now,
        updated_at=now,
        forum_id=ids["forum"],
        reported_by="U1",
        reporting_agency_id=ids["agency"],
        kind="other",
        text=text,
    )


def rows(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_job_that_adds_identifying_text_is_refused_and_nothing_is_stored(
    sessions: sessionmaker[Session], forum_ids: dict[str, int]
) -> None:
    with pytest.raises(IdentifyingDataRefused) as refused, transaction(sessions) as s:
        s.add(deviation(forum_ids, f"Barnet {CHILD.replace('-', ' ')} fick vänta"))
    assert refused.value.field == "text"
    assert refused.value.msgid == MSGIDS["personnummer"]
    assert refused.value.column == "deviations.text"  # type: ignore[attr-defined]
    assert rows(sessions, Deviation) == 0
    with transaction(sessions) as s:
        s.add(deviation(forum_ids, "Informationen kom inte fram före mötet 2026-12-03 13:00"))
    assert rows(sessions, Deviation) == 1


def test_changing_a_stored_text_is_checked_too(
    sessions: sessionmaker[Session], forum_ids: dict[str, int]
) -> None:
    with transaction(sessions) as s:
        s.add(deviation(forum_ids, "Informationen kom inte fram"))
    with pytest.raises(IdentifyingDataRefused), transaction(sessions) as s:
        row = s.scalars(select(Deviation)).one()
        row.follow_up_note = "Mejla namn(at)skola.se"
    with pytest.raises(TextTooLong) as too_long, transaction(sessions) as s:
        meeting = s.get(Meeting, forum_ids["meeting"])
        assert meeting is not None
        meeting.note = "Studiedag " * 30
    assert too_long.value.field == "note" and too_long.value.params == {"n": 200, "length": 300}
    with sessions() as s:
        assert s.scalars(select(Deviation.follow_up_note)).one() is None
        assert s.get(Meeting, forum_ids["meeting"]).note is None  # type: ignore[union-attr]
    # Other columns of a row with old text change freely: only what changes is read.
    with transaction(sessions) as s:
        s.scalars(select(Deviation)).one().kind = "delay"


def test_orm_insert_and_update_statements_are_checked(
    sessions: sessionmaker[Session], forum_ids: dict[str, int]
) -> None:
    with transaction(sessions) as s:
        s.add(deviation(forum_ids, "Informationen kom inte fram"))
    with pytest.raises(IdentifyingDataRefused), transaction(sessions) as s:
        s.execute(update(Deviation).values(text="Ring 070-123 45 67"))
    with pytest.raises(TextTooLong), transaction(sessions) as s:
        s.execute(
            update(Meeting).where(Meeting.id == forum_ids["meeting"]).values(note="x" * 100_000)
        )
    with pytest.raises(IdentifyingDataRefused), transaction(sessions) as s:
        s.execute(
            insert(AgendaItem),
            [
                {"meeting_id": forum_ids["meeting"], "kind": "other", "text": "Övrigt"},
                {"meeting_id": forum_ids["meeting"], "kind": "other", "text": f"Om {CHILD}"},
            ],
        )
    with sessions() as s:
        assert s.scalars(select(Deviation.text)).one() == "Informationen kom inte fram"
        assert s.get(Meeting, forum_ids["meeting"]).note is None  # type: ignore[union-attr]
        assert s.scalar(select(func.count()).select_from(AgendaItem)) == 0
    # Clean statements pass.
    with transaction(sessions) as s:
        s.execute(update(Deviation).values(text="Stödet kom sent, v. 45"))


def test_table_statements_bound_parameters_and_dml_ctes_are_checked(
    sessions: sessionmaker[Session], clock: AdjustableClock, forum_ids: dict[str, int]
) -> None:
    """What the lean save paths use: statements on the table (not the mapped class), values
    that name an execution parameter, and an INSERT riding on another statement as a CTE
    (the audit event with the change it records, ``audit.append_with``)."""
    deviations, meetings_table = cast(Table, Deviation.__table__), cast(Table, Meeting.__table__)
    with transaction(sessions) as s:
        s.add(deviation(forum_ids, "Informationen kom inte fram"))
    set_text = update(deviations).values(text=bindparam("new_text"))
    with pytest.raises(IdentifyingDataRefused), transaction(sessions) as s:
        s.execute(set_text, {"new_text": "Ring 070-123 45 67"})
    with pytest.raises(TextTooLong), transaction(sessions) as s:
        s.execute(update(meetings_table), {"note": "x" * 100_000})
    riding = insert(deviations).values(
        text=bindparam("cte_text"),
        created_at=DEFAULT_NOW,
        updated_at=DEFAULT_NOW,
        forum_id=forum_ids["forum"],
        reported_by="U1",
        reporting_agency_id=forum_ids["agency"],
        kind="other",
    )
    carrier = update(meetings_table).values(updated_at=DEFAULT_NOW).add_cte(riding.cte("dev"))
    # Refused before it reaches the database (so on SQLite too, which has no DML CTEs).
    with pytest.raises(IdentifyingDataRefused), transaction(sessions) as s:
        s.execute(carrier, {"cte_text": f"Om {CHILD}"})
    # The audit event with a change: the change is checked (and nothing of either stays).
    with pytest.raises(IdentifyingDataRefused), transaction(sessions) as s:
        audit.append_with(
            s, clock, set_text, {"new_text": f"Om {CHILD}"}, actor="U1",
            action=AuditAction.UPDATE, object_type="deviation", object_ref="1", team_id="T0001",
        )  # fmt: skip
    with sessions() as s:
        assert s.scalars(select(Deviation.text)).one() == "Informationen kom inte fram"
        assert s.get(Meeting, forum_ids["meeting"]).note is None  # type: ignore[union-attr]
        assert not s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.object_type == "deviation"
        ))  # fmt: skip
    # Clean statements pass, the event with its change.
    with transaction(sessions) as s:
        audit.append_with(
            s, clock, set_text, {"new_text": "Stödet kom sent, v. 45"}, actor="U1",
            action=AuditAction.UPDATE, object_type="deviation", object_ref="1", team_id="T0001",
        )  # fmt: skip
    with sessions() as s:
        assert s.scalars(select(Deviation.text)).one() == "Stödet kom sent, v. 45"
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.object_type == "deviation"
        )) == 1  # fmt: skip


def test_a_data_migration_may_rewrite_old_rows(
    sessions: sessionmaker[Session], forum_ids: dict[str, int]
) -> None:
    with transaction(sessions) as s, privacy_wall.exempt(s):
        s.add(deviation(forum_ids, f"Gammal rad från före spärren: {CHILD}"))
    assert rows(sessions, Deviation) == 1
    with pytest.raises(IdentifyingDataRefused), transaction(sessions) as s:
        s.add(deviation(forum_ids, f"Ny rad: {CHILD}"))  # the mark lasts for the block only


def test_a_rating_comment_written_outside_the_domain_is_refused(
    sessions: sessionmaker[Session], forum_ids: dict[str, int]
) -> None:
    # Refused before any SQL is sent (the round and area need not even exist).
    with pytest.raises(IdentifyingDataRefused) as refused, transaction(sessions) as s:
        s.add(
            Rating(round_id=1, agency_id=forum_ids["agency"], area_id=1, level=1, comment="a@b.se")
        )
    assert refused.value.field == "comment" and refused.value.msgid == MSGIDS["email"]
    assert rows(sessions, Rating) == 0

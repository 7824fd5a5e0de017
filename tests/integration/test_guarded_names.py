"""Forum, agency and area names are guarded at the storage edge (domain/privacy_wall.py) like
free text: they are shown in channels, so a personnummer, phone number, e-mail or street
address in one is refused whichever code path writes it, and the user sees the friendly
error on the field."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from domain import forums as fs
from domain.clock import AdjustableClock
from domain.errors import IdentifyingDataRefused
from storage.db import transaction
from storage.models import Agency, Area, Forum
from tests.conftest import Bot
from tests.integration.test_forum_flow import count, submit_create
from tests.support.forums import forum_draft
from tests.support.personnummer import pnr

CHILD = pnr("170110", "238")
NAMES = {
    "personnummer": f"Ärende {CHILD}",
    "phone": "Polis ring 070-123 45 67",
    "e-mail": "Skola anna@example.se",
    "address": "Träffas på Storgatan 12, 411 38 Göteborg",
}


@pytest.fixture
def forum_id(sessions: sessionmaker[Session], clock: AdjustableClock) -> int:
    with transaction(sessions) as s:
        forum = fs.create_forum(
            s, clock, team_id="T0001", channel_id="C0001", actor="U1", draft=forum_draft()
        )
        return forum.id


def names(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as s:
        return {
            *s.scalars(select(Forum.name)),
            *s.scalars(select(Agency.name)),
            *s.scalars(select(Area.name)),
        }


@pytest.mark.parametrize("found", sorted(NAMES))
def test_a_name_with_identifying_data_is_refused_whatever_writes_it(
    sessions: sessionmaker[Session], forum_id: int, found: str
) -> None:
    name = NAMES[found]
    before = names(sessions)
    writes: dict[str, Any] = {
        "rename the forum": lambda s: setattr(s.get(Forum, forum_id), "name", name),
        "add an agency": lambda s: s.add(Agency(forum_id=forum_id, name=name, position=9)),
        "add an area": lambda s: s.add(Area(forum_id=forum_id, name=name, position=9)),
        "update agencies": lambda s: s.execute(
            update(Agency).where(Agency.forum_id == forum_id).values(name=name)
        ),
        "insert an area": lambda s: s.execute(
            insert(Area).values(forum_id=forum_id, name=name, position=8)
        ),
    }
    fields = {
        "rename the forum": "name",
        "add an agency": "agencies_other",
        "update agencies": "agencies_other",
        "add an area": "areas",
        "insert an area": "areas",
    }
    for what, write in writes.items():
        with pytest.raises(IdentifyingDataRefused) as refused, transaction(sessions) as s:
            write(s)
            s.flush()
        assert refused.value.field == fields[what], what
    assert names(sessions) == before, "a name with identifying data was stored"
    with transaction(sessions) as s:  # a clean name still goes in
        s.add(Area(forum_id=forum_id, name="Torget", position=9))
    assert "Torget" in names(sessions)


@pytest.mark.parametrize(
    ("kwargs", "block", "expected"),
    [
        ({"name": f"Forum {CHILD}"}, "name.0", "personnummer"),
        ({"other": "Skola anna@example.se"}, "agencies_other.0", "e-postadress"),
        ({"areas": "Gråbo\nring 070-123 45 67"}, "areas.0", "telefonnummer"),
    ],
)
def test_the_wall_answers_the_modal_kindly_when_the_form_check_is_missing(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, Any], block: str, expected: str
) -> None:
    """As if the form's own check had been forgotten: the storage edge refuses the name and
    the user sees the friendly error on that field, in Swedish; no forum is stored."""
    from domain import privacy

    monkeypatch.setattr(privacy, "check_fields", lambda *_a, **_k: {})
    response = submit_create(bot, **kwargs)
    assert response.status == 200
    body = response.json()
    assert body is not None and body["response_action"] == "errors", body
    assert expected in body["errors"][block], body
    assert count(bot, Forum) == 0
    with bot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Agency)) == 0

"""The inventory of forums, agencies, members, areas and meetings."""

from __future__ import annotations

from dataclasses import replace

from domain.inventory.base import (
    DB,
    MJ,
    ON,
    F,
    K,
    L,
    M,
    O,
    Retention,
    T,
    Table,
)

FORUMS: dict[str, Table] = {
    "forums": Table(
        DB,
        "Samverkansforum: namn, kod, kanal, mötesschema, inställningar",
        "Forums: name, code, channel, meeting schedule, settings",
        {
            "id": K,
            "team_id": T,
            "channel_id": T,
            "name": ON.limit(80),  # domain.forums.NAME_MAX
            "code": O,
            "template": O,
            "schedule_rrule": L,
            "schedule_anchor": L,
            "meeting_start": L,
            "meeting_minutes": L,
            "timezone": L,
            "language": L,
            "settings": O,
            "created_by": M,
            "meetings_until": L,
            "created_at": L,
            "updated_at": L,
        },
        forum_link="id",
        retention=Retention.FORUM,
    ),
    "agencies": Table(
        DB,
        "Verksamheter som deltar i ett forum",
        "Agencies taking part in a forum",
        {
            "id": K,
            "forum_id": K,
            "name": replace(ON.limit(75), field="agencies_other"),  # AGENCY_MAX
            "name_key": replace(ON.limit(300), field="agencies_other"),  # models.name_key(name)
            "position": O,
            "active": O,
        },
        forum_link="forum_id",
        retention=Retention.FORUM,
    ),
    "members": Table(
        DB,
        "Medlemmar: Slack-id, verksamhet, roll, frånvaro",
        "Members: Slack id, agency, role, absence",
        {
            "id": K,
            "forum_id": K,
            "agency_id": K,
            "slack_user_id": M,
            "role": O,
            "active": O,
            "away_until": L,
            "stand_in_member_id": K,
            "created_at": L,
            "updated_at": L,
        },
        forum_link="forum_id",
        retention=Retention.FORUM,
    ),
    "areas": Table(
        DB,
        "Områden/teman i lägesbilden",
        "Areas/themes of the situation picture",
        {
            "id": K,
            "forum_id": K,
            "name": replace(ON.limit(75), field="areas"),  # AREA_MAX
            "name_key": replace(ON.limit(300), field="areas"),  # models.name_key(name)
            "kind": O,
            "position": O,
            "active": O,
        },
        forum_link="forum_id",
        retention=Retention.FORUM,
    ),
    "meetings": Table(
        DB,
        "Möten: tider, status, närvaro, anteckningar",
        "Meetings: times, status, attendance, notes",
        {
            "id": K,
            "forum_id": K,
            "occurrence": L,
            "starts_at": L,
            "ends_at": L,
            "status": L,
            "has_situation_picture": L,
            "note": F.limit(200),
            "attendance": MJ,
            "minutes": F.limit(3000),
            "agenda_channel_ts": T,
            "agenda_due_at": L,
            "agenda_version": T,
            "holiday": L,
            "changed_by": M,
            "extra": L,
        },
        forum_link="forum_id",
        retention=Retention.MEETINGS,
    ),
}

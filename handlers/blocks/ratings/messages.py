"""The DM asking an agency to rate, the DM about a round that could not open, and the
renderers domain.ratings asks for (messages and the picture's images)."""

from __future__ import annotations

from typing import Any

from domain.i18n import Translator
from domain.ratings import (
    Escalation,
    Invite,
    Missed,
    Picture,
)
from handlers.blocks.common import (
    actions,
    button,
    context,
    escape,
    message,
    section,
)
from handlers.blocks.ratings.base import ACTION_RATE, _day, _when, invite_value
from handlers.blocks.ratings.modal import escalations_text
from handlers.blocks.ratings.picture import picture_message

# --- the DM asking an agency to rate -----------------------------------------------------------


def invite_message(t: Translator, invite: Invite) -> dict[str, Any]:
    day = _day(t, invite.meeting_start, invite.timezone)
    deadline = _when(t, invite.deadline_at, invite.timezone)
    if invite.reopened:
        text = t(
            "The meeting of {forum} is held after all, {day}: the situation picture is open "
            "again. {agency} has not rated every area yet: rate the situation for your agency "
            "by {deadline}.",
            forum=invite.forum_name,
            day=day,
            agency=invite.agency_name,
            deadline=deadline,
        )
    elif invite.moved:
        text = t(
            "The meeting of {forum} has moved to {day}, so the situation picture has a new "
            "deadline. {agency} has not rated every area yet: rate the situation for your "
            "agency by {deadline}.",
            forum=invite.forum_name,
            day=day,
            agency=invite.agency_name,
            deadline=deadline,
        )
    elif invite.reminder and invite.rated:
        text = t.ngettext(
            "Reminder: situation picture before {forum} {day}. {agency} has rated {rated} "
            "of {n} area: rate the rest for your agency by {deadline}.",
            "Reminder: situation picture before {forum} {day}. {agency} has rated {rated} "
            "of {n} areas: rate the rest for your agency by {deadline}.",
            invite.areas,
            forum=invite.forum_name,
            day=day,
            agency=invite.agency_name,
            rated=invite.rated,
            deadline=deadline,
        )
    elif invite.reminder:
        text = t(
            "Reminder: situation picture before {forum} {day}. {agency} has not answered yet: "
            "rate the situation for your agency by {deadline}.",
            forum=invite.forum_name,
            day=day,
            agency=invite.agency_name,
            deadline=deadline,
        )
    elif invite.replaced is not None and invite.carried_over:
        # A schedule change retired the round {agency} had answered: say why it is asked
        # again, and that its answers came along (before, the same invitation as any).
        text = t(
            "The schedule of {forum} changed, so the situation picture before {old_day} "
            "was replaced by one before {day}. The answers {agency} gave for {old_day} are "
            "carried over: check them and change what needs changing by {deadline}.",
            forum=invite.forum_name,
            old_day=_day(t, invite.replaced, invite.timezone),
            day=day,
            agency=invite.agency_name,
            deadline=deadline,
        )
    elif invite.replaced is not None:
        text = t(
            "The schedule of {forum} changed, so the situation picture before {old_day} "
            "was replaced by one before {day}: rate the situation for your agency by "
            "{deadline}.",
            forum=invite.forum_name,
            old_day=_day(t, invite.replaced, invite.timezone),
            day=day,
            deadline=deadline,
        )
    else:
        text = t(
            "Situation picture before {forum} {day}: rate the situation for your agency "
            "by {deadline}.",
            forum=invite.forum_name,
            day=day,
            deadline=deadline,
        )
    blocks = [
        section(escape(text)),
        context(
            t(
                "You answer for {agency}. Anyone from your agency may answer or change it.",
                agency=escape(invite.agency_name),
            )
        ),
        actions(
            button(
                t("Rate the situation"),
                ACTION_RATE,
                value=invite_value(invite.round_id, invite.agency_id),
                style="primary",
            )
        ),
    ]
    return message(text, blocks)


def missed_message(t: Translator, missed: Missed) -> dict[str, Any]:
    text = t(
        "The rating round before {forum} {day} could not be held: the bot was unavailable "
        "until after its deadline ({deadline}). There is no situation picture for this "
        "meeting; you can ask the agencies at the meeting.",
        forum=missed.forum_name,
        day=_day(t, missed.meeting_start, missed.timezone),
        deadline=_when(t, missed.deadline_at, missed.timezone),
    )
    return message(text, [section(escape(text))])


class SlackRenderers:
    """The renderers domain.ratings asks for (scheduled DMs and the channel post)."""

    def invite(self, t: Translator, invite: Invite) -> dict[str, Any]:
        return invite_message(t, invite)

    def picture(self, t: Translator, picture: Picture) -> dict[str, Any]:
        return picture_message(t, picture)

    def missed(self, t: Translator, missed: Missed) -> dict[str, Any]:
        return missed_message(t, missed)

    def escalations(
        self, t: Translator, forum_name: str, escalations: tuple[Escalation, ...]
    ) -> dict[str, Any]:
        return {"text": escalations_text(t, forum_name, escalations)}

    def images(self, t: Translator, picture: Picture) -> list[tuple[str, str, str, bytes]]:
        # matplotlib is loaded only here, when a picture is drawn (an idle replica never).
        from handlers.blocks.charts import picture_images

        return picture_images(t, picture)


RENDERERS = SlackRenderers()

"""A forum's summary, the created message and App Home."""

from __future__ import annotations

from collections.abc import Sequence

from domain.i18n import Translator
from handlers.blocks.common import (
    SECTION_TEXT_MAX,
    Block,
    context,
    divider,
    escape,
    header,
    message,
    section,
)
from handlers.blocks.forum.ids import (
    MAX_HOME_FORUMS,
    ForumSummary,
    channel_refused_text,
    role_as,
)
from handlers.blocks.forum.modal import schedule_text
from handlers.blocks.home import HOME_BLOCKS_MAX, HomeParts, HomeSection


def forum_summary_blocks(t: Translator, summary: ForumSummary) -> list[Block]:
    meetings = ", ".join(t.day_time(m, summary.timezone) for m in summary.next_meetings) or "–"
    labels = {
        "code": t("Code"),
        "next": t("Next meetings"),
        "schedule": t("Schedule"),
        "agencies": t("Agencies"),
        "areas": t("Areas"),
        "members": t("Members"),
    }
    lines = [
        f"*{labels['code']}:* {escape(summary.code)}",
        f"*{labels['next']}:* {meetings}",
        f"*{labels['schedule']}:* {schedule_text(t, summary.rrule, summary.start, summary.end)}",
        f"*{labels['agencies']}:* {escape(', '.join(summary.agencies)) or '–'}",
        f"*{labels['areas']}:* {escape(', '.join(summary.areas)) or '–'}",
        f"*{labels['members']}:* {summary.member_count}",
    ]
    if summary.channel_refused:  # first, in the same section: no block more per forum
        lines.insert(0, channel_refused_text(t, summary.channel_refused, summary.channel_id))
    blocks = [header(summary.name), section("\n".join(lines))]
    if summary.your_role and summary.your_agency:
        blocks.append(
            context(
                t(
                    "You take part as {role} for {agency}.",
                    role=role_as(t, summary.your_role),
                    agency=escape(summary.your_agency),
                )
            )
        )
    if summary.representatives:
        blocks.append(section(_representatives_text(t, summary.representatives)))
    if summary.your_away_until:
        blocks.append(
            context(
                t(
                    "You are marked as away until and including {day}.",
                    day=t.day(summary.your_away_until, year=False),
                )
            )
        )
    return blocks


# Room for the list of representatives, below a section's limit with the "… and n more" line.
SECTION_TEXT_ROOM = SECTION_TEXT_MAX - 200


def _representatives_text(t: Translator, rows: Sequence[tuple[str, Sequence[str]]]) -> str:
    """Who represents each agency, as mentions (Slack shows each person's name), within a
    section's 3000 characters: what does not fit is said as a count."""
    title = "*" + t("Who represents each agency") + "*"
    lines: list[str] = []
    size = len(title)
    for n, (agency, users) in enumerate(rows):
        who = ", ".join(f"<@{u}>" for u in users) if users else t("no one yet")
        line = f"• {escape(agency)}: {who}"
        if size + len(line) + 1 > SECTION_TEXT_ROOM:
            rest = len(rows) - n
            lines.append(
                t.ngettext(
                    "… and {n} more agency.",
                    "… and {n} more agencies.",
                    rest,
                )
            )
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join([title, *lines])


def forum_created_message(t: Translator, summary: ForumSummary) -> dict[str, object]:
    """The channel post after set-up: names, dates and agencies only, no personal data."""
    text = t("The forum {name} now meets in this channel.", name=escape(summary.name))
    blocks = [section(f"*{text}*"), *forum_summary_blocks(t, summary)[1:]]
    blocks.append(context(t("Type /samverkan help to see what I can do.")))
    return message(text, blocks)


def home_forums_section(t: Translator, forums: Sequence[ForumSummary]) -> HomeSection:
    """App Home's summaries of the user's forums, one entry each."""
    if not forums:
        return HomeSection(
            head=[
                section(
                    t(
                        "You are not a member of any forum right now. A coordinator adds you, or "
                        "create a forum with /samverkan forum new in the forum's channel."
                    )
                )
            ]
        )
    entries = [
        [
            divider(),
            section(f"*{escape(summary.name)}* · <#{summary.channel_id}>"),
            *forum_summary_blocks(t, summary)[1:],
        ]
        for summary in forums[:MAX_HOME_FORUMS]
    ]

    def more(n: int) -> Block:
        return context(
            t.ngettext(
                "…and {n} more forum: its summary is in its channel (/samverkan forum).",
                "…and {n} more forums: each one's summary is in its channel (/samverkan forum).",
                n,
            )
        )

    return HomeSection(entries=entries, more=more, left_out=max(0, len(forums) - MAX_HOME_FORUMS))


def home_tab(t: Translator, parts: HomeParts) -> Block:
    """App Home: its title, the sections within Slack's 100 blocks, the closing hint."""
    top = [header(t("Samverkan"))]
    hint = [context(t("Type /samverkan help to see what I can do."))]
    body = parts.fit(HOME_BLOCKS_MAX - len(top) - len(hint))
    return {"type": "home", "blocks": [*top, *body, *hint][:HOME_BLOCKS_MAX]}


def home_error_view(t: Translator, text: str) -> Block:
    return {"type": "home", "blocks": [header(t("Samverkan")), section(text)]}

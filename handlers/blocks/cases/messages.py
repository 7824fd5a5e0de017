"""The channel announcement of a case, the DM to the agencies that must attend and the case list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from domain.cases import (
    CasePage,
    Scope,
)
from domain.clock import as_utc
from domain.i18n import Translator
from handlers.blocks.cases.ids import (
    ACTION_CASE_OPEN,
    ACTION_CASE_OPEN_DM,
    ACTION_LIST_FILTER,
    ACTION_LIST_NEXT,
    ACTION_LIST_PREV,
    ACTION_LIST_STATUS,
    filter_value,
    page_value,
)
from handlers.blocks.cases.labels import _line, _meeting, _names, status_label
from handlers.blocks.common import (
    Block,
    actions,
    button,
    context,
    escape,
    header,
    message,
    option,
    plain,
    section,
)
from storage.models import CaseStatus


def case_announcement(
    t: Translator,
    *,
    reference: str,
    raising_agency: str,
    agencies: Sequence[str],
    meeting_start: dt.datetime | None,
    tz: dt.tzinfo,
) -> dict[str, object]:
    """The channel message about a new case: reference, agencies and meeting, nothing else."""
    title = t("New case {reference}", reference=escape(reference))
    lines = [
        _line(t("Raising agency"), escape(raising_agency)),
        _line(t("Agencies that need to take part"), _names(agencies)),
        _line(t("Meeting"), _meeting(t, meeting_start, tz)),
    ]
    blocks = [
        section(f"*{title}*\n" + "\n".join(lines)),
        context(t("Members open the case with {command}.", command=t("/samverkan cases"))),
    ]
    return message(title, blocks)


def case_announcement_removed(t: Translator, *, reference: str) -> dict[str, object]:
    """The channel message about a new case once that case was deleted as raised by
    mistake: the reference alone, as the announcement had it."""
    text = t("{reference} was removed (raised by mistake).", reference=escape(reference))
    return message(text, [section(text)])


def case_dm_text(
    t: Translator,
    *,
    reference: str,
    forum_name: str,
    meeting_start: dt.datetime | None,
    tz: dt.tzinfo,
) -> str:
    """The DM to the agencies that must attend ("OSF: FOS-2026-017 tas upp torsdag
    3 december 13:00 …"): the forum, since a member of several cannot tell which otherwise,
    and the meeting's day and time; the pseudonymised reference only."""
    if meeting_start is None:
        return t(
            "{forum}: {reference} has been raised; your agency needs to take part.",
            forum=escape(forum_name),
            reference=escape(reference),
        )
    local = as_utc(meeting_start).astimezone(tz)
    return t(
        "{forum}: {reference} will be discussed on {date} {time}; your agency needs to take part.",
        forum=escape(forum_name),
        reference=escape(reference),
        date=t.day(local.date(), year=False),
        time=local.strftime("%H:%M"),
    )


def case_dm(
    t: Translator,
    *,
    reference: str,
    forum_name: str,
    meeting_start: dt.datetime | None,
    tz: dt.tzinfo,
    case_id: int,
) -> dict[str, object]:
    """:func:`case_dm_text` with the button that opens the case (its modal, an audited read
    for the case's forum's members; the button names the case by its id, nothing else)."""
    text = case_dm_text(
        t, reference=reference, forum_name=forum_name, meeting_start=meeting_start, tz=tz
    )
    return case_button_dm(t, text, case_id)


def case_button_dm(t: Translator, text: str, case_id: int) -> dict[str, object]:
    """A DM about one case (its text names the reference only) with the button that opens
    the case: the case DM, the consent's expiry reminder."""
    return message(
        text,
        [
            section(text),
            actions(button(t("Open the case"), ACTION_CASE_OPEN_DM, value=str(case_id))),
        ],
    )


# --- the case list ------------------------------------------------------------------------------


def _filter_selects(t: Translator, *, status: CaseStatus | None, scope: Scope) -> list[Block]:
    """Whose cases and which status, each keeping the other's choice (both apply at once)."""
    scope_options = [
        option(t("All cases"), filter_value(status=status, scope="all")),
        option(t("Raised by me"), filter_value(status=status, scope="mine")),
        option(t("My agency's cases"), filter_value(status=status, scope="agency")),
    ]
    status_options = [option(t("Any status"), filter_value(status=None, scope=scope))] + [
        option(status_label(t, s), filter_value(status=s, scope=scope)) for s in CaseStatus
    ]
    current = filter_value(status=status, scope=scope)
    return [
        {
            "type": "static_select",
            "action_id": ACTION_LIST_FILTER,
            "placeholder": plain(t("Whose cases"), 150),
            "options": scope_options,
            "initial_option": next(o for o in scope_options if o["value"] == current),
        },
        {
            "type": "static_select",
            "action_id": ACTION_LIST_STATUS,
            "placeholder": plain(t("Status"), 150),
            "options": status_options,
            "initial_option": next(o for o in status_options if o["value"] == current),
        },
    ]


def case_list_message(
    t: Translator,
    page: CasePage,
    *,
    tz: dt.tzinfo,
    status: CaseStatus | None,
    scope: Scope,
) -> dict[str, object]:
    """An ephemeral page of cases (logistics only) with a filter and previous/next buttons."""
    blocks: list[Block] = [
        header(t("Cases")),
        actions(*_filter_selects(t, status=status, scope=scope), block_id="case_list_filter"),
    ]
    for row in page.rows:
        lines = [
            f"*{escape(row.reference)}* · {status_label(t, row.status)} · "
            f"{_meeting(t, row.meeting_start, tz)}",
            f"{escape(row.raising_agency)} → {_names(row.agencies)}",
        ]
        if row.consultation:
            consultation = t("Anonymous consultation")
            lines.append(f"_{consultation}_")
        blocks.append(
            section(
                "\n".join(lines),
                block_id=f"case.{row.id}",
                accessory=button(t("Open"), ACTION_CASE_OPEN, value=str(row.id)),
            )
        )
    if not page.rows:
        filtered = status is not None or scope != "all"
        blocks.append(
            section(
                t("No cases match this filter.")
                if filtered
                else t("No cases yet. Raise one with {command}.", command=t("/samverkan case"))
            )
        )
    nav: list[Block] = []
    if page.page > 0:
        previous = (
            page_value(page.page - 1, scope, status, before=page.first_id)
            if page.first_id is not None
            else page_value(0, scope, status)  # an emptied page: back to the newest
        )
        nav.append(button(t("Previous"), ACTION_LIST_PREV, value=previous))
    if page.has_more and page.last_id is not None:
        following = page_value(page.page + 1, scope, status, after=page.last_id)
        nav.append(button(t("Next"), ACTION_LIST_NEXT, value=following))
    if nav:
        blocks.append(actions(*nav, block_id="case_list_page"))
    if page.page > 0 or page.has_more:  # one page only: no "Page 1"
        blocks.append(context(t("Page {n}", n=page.page + 1)))
    return message(t("Cases"), blocks)

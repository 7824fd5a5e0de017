"""Help: the command groups, the help message and the nearest command after a typo."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from domain.i18n import Translator
from domain.references import EXAMPLE_REFERENCE
from handlers.blocks.common import (
    Block,
    button,
    context,
    escape,
    header,
    message,
    section,
)
from handlers.blocks.forum.ids import ACTION_MENU_RUN

HelpLine = tuple[str, str]


def _help_groups(t: Translator, reference: str) -> list[tuple[str, list[HelpLine]]]:
    """What the bot can do, grouped by who may do it; ``reference``: the example case
    reference (the forum's own format where the help is asked in its channel)."""
    everyone = [
        ("/samverkan", t("opens a menu of what you may do in this channel")),
        (t("/samverkan help"), t("shows this help")),
        (
            t("/samverkan forum new"),
            t("creates a forum in this channel (name, code, agencies, schedule, areas)"),
        ),
    ]
    members = [
        ("/samverkan forum", t("shows the forum's agencies, schedule and members")),
        (t("/samverkan case"), t("raises a case for your agency (pseudonymised, with consent)")),
        (t("/samverkan cases"), t("lists the forum's cases; open one to see its details")),
        (
            t("/samverkan case {reference}", reference=reference),
            t("opens that case, as Open in the list does"),
        ),
        (
            t("/samverkan deviation"),
            t(
                "reports that collaboration failed; the coordinator follows it up "
                "(App Home: Deviations to follow up) and you are told the outcome"
            ),
        ),
        (t("/samverkan action"), t("creates an action with an owner and a due date")),
        (
            t("/samverkan actions"),
            t("lists actions: mine, my agency's or the forum's (open, overdue, done, follow-up)"),
        ),
        (t("/samverkan action-plan"), t("sends the action plan for a period (xlsx and CSV)")),
        (t("/samverkan feedback"), t("results of the feedback after closed cases, per period")),
        (t("/samverkan criteria"), t("the forum's case criteria and how often they were met")),
        (
            t("/samverkan steering"),
            t("in a steering forum: the figures of the forums it follows; … settings"),
        ),
        (t("/samverkan activity-plan"), t("the steering forum's annual activity plan")),
        (
            t("/samverkan situation"),
            t("the situation picture: who has rated, rate for your agency, the latest picture"),
        ),
        (
            t("/samverkan away 2026-12-10 @stand-in"),
            t(
                "you are away until that day (a stand-in from your agency is optional); "
                "/samverkan back when you return sooner"
            ),
        ),
        (t("/samverkan meetings"), t("the next meetings")),
        (t("/samverkan agenda"), t("the next meeting's agenda as it stands")),
        (
            t("/samverkan item …"),
            # Seed 002 (BUS): each agency informs of changes in its own work.
            t(
                "adds other business to the next meeting's agenda, e.g. news from your "
                "agency that the others should know"
            ),
        ),
        (
            t("/samverkan leave"),
            t("how to leave the forum: leave its channel (or a coordinator removes you)"),
        ),
    ]
    coordinators = [
        ("/samverkan forum", t("changes the forum's settings")),
        (t("/samverkan forum members"), t("adds and removes members")),
        (
            t("/samverkan situation settings"),
            t("when the situation picture is made, the deadline and reminders"),
        ),
        (
            t("/samverkan situation export"),
            t("the situation picture's rounds as xlsx and CSV, for the municipality"),
        ),
        (t("/samverkan meetings"), t("adds an extra meeting; moves, cancels and records meetings")),
        (
            t("/samverkan meetings extra 2026-12-10 13:00"),
            t(
                "adds an extra meeting that day and time (the day also as 10 December, "
                "Thursday or tomorrow); without them, a form opens"
            ),
        ),
        (t("/samverkan statistics"), t("statistics for steering groups, with a chart")),
        (
            t("/samverkan review"),
            t("the half-year review (PDF, xlsx) for a period; … settings"),
        ),
        (
            t("/samverkan annual-report"),
            t("the steering forum's annual report for the board (PDF, docx)"),
        ),
        (
            t("/samverkan yearly-picture"),
            t("the municipality's lägesbild and åtgärdsplan (SFS 2023:196) as docx and PDF"),
        ),
        (
            t("/samverkan ground {reference}", reference=reference),
            t("records a legal ground other than consent for an agency"),
        ),
    ]
    admins = [
        (t("/samverkan forum members"), t("also appoints and removes admins")),
    ]
    privacy = [
        (
            t("/samverkan log"),
            t(
                "audit log: who read or changed what (coordinators and reviewers; filters, "
                "CSV); reviewers also get a monthly summary by DM"
            ),
        ),
        (
            t("/samverkan consent {reference}", reference=reference),
            t("a case's consent register; without a reference: consents about to expire"),
        ),
        (
            t("/samverkan retention"),
            t("retention periods and legal holds (… stop REF reason, … release REF)"),
        ),
        (
            t("/samverkan access-export @person"),
            t(
                "coordinators and reviewers get everything stored about a member "
                "(GDPR art. 15) by DM"
            ),
        ),
    ]
    return [
        (t("For everyone"), everyone),
        (t("For members of the forum"), members),
        (t("For coordinators"), coordinators),
        (t("For admins"), admins),
        (t("Data protection"), privacy),
    ]


def help_blocks(t: Translator, reference: str = EXAMPLE_REFERENCE) -> list[Block]:
    """The help, grouped by role: everyone, members, coordinators, admins, data protection."""
    blocks: list[Block] = [header(t("Samverkan – what I can do"))]
    for title, lines in _help_groups(t, reference):
        body = "\n".join(f"• `{cmd}` – {desc}" for cmd, desc in lines)
        blocks.append(section(f"*{title}*\n{body}"))
    blocks.append(
        context(
            t(
                "Never write names, personal identity numbers, phone numbers or addresses: "
                "use case references and non-identifying text."
            )
        )
    )
    return blocks


def help_message(t: Translator, reference: str = EXAMPLE_REFERENCE) -> dict[str, object]:
    return message(t("Samverkan – what I can do"), help_blocks(t, reference))


# Commands a user may mean: the first words (Swedish and English) and common two-word ones.
KNOWN_COMMANDS: tuple[str, ...] = (
    "hjälp",
    "help",
    "forum",
    "forum ny",
    "forum new",
    "forum medlemmar",
    "forum members",
    "ärende",
    "case",
    "nytt ärende",
    "ärenden",
    "cases",
    "avvikelse",
    "deviation",
    "insats",
    "action",
    "insatser",
    "actions",
    "åtgärdsplan",
    "action-plan",
    "statistik",
    "statistics",
    "lägesbild",
    "situation",
    "lägesbild bedöm",
    "lägesbild export",
    "lägesbild inställningar",
    "borta",
    "away",
    "tillbaka",
    "back",
    "möten",
    "meetings",
    "möten extra",
    "meetings extra",
    "dagordning",
    "agenda",
    "punkt",
    "item",
    "logg",
    "log",
    "samtycke",
    "consent",
    "grund",
    "ground",
    "gallring",
    "retention",
    "registerutdrag",
    "access-export",
    "lämna",
    "leave",
)


def nearest_command(typed: str) -> str | None:
    """The known command closest to what was typed (one or two words), if any is close."""
    words = typed.casefold().split()
    if not words:
        return None
    for size in (2, 1):
        attempt = " ".join(words[:size])
        pool = [c for c in KNOWN_COMMANDS if len(c.split()) == size]
        found = difflib.get_close_matches(attempt, pool, n=1, cutoff=0.7)
        if found:
            return found[0]
    return None


def unknown_command_message(t: Translator, word: str) -> dict[str, object]:
    blocks: list[Block] = [section(t("I don't know the command *{word}*.", word=escape(word[:40])))]
    guess = nearest_command(word)
    if guess:
        blocks.append(
            section(
                t("Did you mean `{command}`?", command=guess),
                accessory=button(
                    t("Run /samverkan {command}", command=guess), ACTION_MENU_RUN, value=guess
                ),
            )
        )
    blocks.extend(help_blocks(t)[1:])
    return message(t("Unknown command"), blocks)


@dataclass(frozen=True)
class MenuItem:
    key: str
    label: str  # msgid
    command: str  # what the button runs, as if typed after /samverkan
    group: str  # msgid of the menu section it is in
    roles: frozenset[str]  # who sees it

    @property
    def action_id(self) -> str:
        return f"menu_{self.key}"

"""Swedish that reads as written by a person (issue #15, point 7): counts go through plural
forms (never "1 insatser", "medlem(mar)", "timme/timmar"), every plural call is extracted as
one, one term per concept (docs/glossary.md), and no label says "(valfritt)" itself."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from domain.actions import ActionRow, StandIn
from domain.errors import InvalidInput
from domain.i18n import N_plural, Translator
from domain.ratings import AgencyStatus, RoundStatus
from handlers.blocks.actions import digest_message, released_message
from handlers.blocks.ratings import picture_blocks, settings_modal, status_blocks
from handlers.errors import error_text
from storage.models import ActionStatus, RatingRoundStatus
from tests.support.blockkit import all_text
from tests.unit.test_i18n import SOURCE_PACKAGES, SV_PO, _extracted
from tests.unit.test_native_blocks import picture

ROOT = Path(__file__).resolve().parents[2]
SV = Translator("sv")
# Placeholders that hold a count of something.
COUNTS = {
    "n", "total", "count", "days", "hours", "limit", "cases", "rounds", "answered", "partial",
    "missing", "away", "done", "on_time", "open", "overdue", "reads", "changes", "exports",
    "deletes", "started", "needed", "shown", "due",
}  # fmt: skip
NOT_NOUNS = {"is", "was", "has", "does", "as", "its", "this", "us"}


@pytest.fixture(scope="module")
def extracted() -> dict[str | tuple[str, ...], list[str]]:
    return _extracted()


@pytest.fixture(scope="module")
def swedish() -> Catalog:
    with SV_PO.open("rb") as fh:
        return read_po(fh, locale="sv", domain="samverkan")


def _texts(value: object) -> list[str]:
    """A catalog entry's translation(s) as strings."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)] if value else []


def _count_then_noun(msgid: str) -> list[str]:
    """``{n} rows``, ``{total} events``, ``{n} round(s)``: a count written with a plural noun."""
    found = []
    for match in re.finditer(r"\{(\w+)\}\s+([A-Za-z]+(?:\(s\))?)", msgid):
        name, word = match.groups()
        if name in COUNTS and word.lower() not in NOT_NOUNS and word.endswith(("s", "(s)")):
            found.append(match.group(0))
    return found


def test_no_count_is_formatted_without_a_plural_form(
    extracted: dict[str | tuple[str, ...], list[str]],
) -> None:
    bad = [
        f"  {msgid!r} ({where[0]}): {hits}"
        for msgid, where in extracted.items()
        if isinstance(msgid, str)
        and (hits := _count_then_noun(msgid) or re.findall(r"\w\(s\)", msgid))
    ]
    assert not bad, "use t.ngettext (or N_plural for a domain error) for:\n" + "\n".join(bad)


def test_the_rule_catches_what_it_should() -> None:
    # Guards the test above against silently matching nothing.
    assert _count_then_noun("Export: {n} rows.") == ["{n} rows"]
    assert _count_then_noun("by {n} day(s)") == ["{n} day(s)"]
    assert _count_then_noun("{n} of {total} agencies answered.") == ["{total} agencies"]
    assert _count_then_noun("Events: {total} (reads: {reads})") == []
    assert _count_then_noun("{reference} is not under legal hold.") == []


def test_no_swedish_text_writes_a_plural_in_parentheses_or_with_a_slash(swedish: Catalog) -> None:
    pattern = re.compile(r"\w\((ar|er|or|mar|na|n|r|s)\)|\b(\w+)/\1\w*\b|timme/timmar|dag/dagar")
    bad = []
    for entry in swedish:
        if not entry.id:
            continue
        bad += [
            f"  {entry.id!r}: {text!r}"
            for text in _texts(entry.string)
            if text and pattern.search(text)
        ]
    assert not bad, "write the plural with ngettext instead:\n" + "\n".join(bad)


def _plural_calls(path: Path) -> list[tuple[str, str, int]]:
    """(singular, plural, line) of every t.ngettext(...) and N_plural(...) in a file."""
    calls = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or len(node.args) < 2:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in ("ngettext", "N_plural"):
            continue
        first, second = node.args[0], node.args[1]
        if isinstance(first, ast.Constant) and isinstance(second, ast.Constant):
            calls.append((str(first.value), str(second.value), node.lineno))
    return calls


def test_every_plural_call_is_extracted_as_a_plural(
    extracted: dict[str | tuple[str, ...], list[str]],
) -> None:
    # Babel takes a call for t(...) when `t` itself is one of its arguments, and then extracts
    # the singular only: a plural that never reaches the catalog stays English.
    missing = []
    calls = 0
    for package in SOURCE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for singular, plural, line in _plural_calls(path):
                calls += 1
                if (singular, plural) not in extracted:
                    missing.append(f"  {path.relative_to(ROOT)}:{line} {singular!r}")
    assert calls > 20
    assert not missing, "not extracted as plurals (compute arguments first):\n" + "\n".join(missing)


def test_swedish_labels_do_not_say_optional(swedish: Catalog) -> None:
    # Slack writes "(valfritt)" after an optional input's label itself.
    said = [
        f"  {entry.id!r}: {entry.string!r}"
        for entry in swedish
        if entry.id
        and isinstance(entry.string, str)
        and re.search(r"\((valfri|valfritt|frivillig|frivilligt)\)", entry.string, re.I)
    ]
    assert not said, "\n".join(said)


def test_the_glossary_names_one_term_per_concept() -> None:
    glossary = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    for term in ("bedömningsomgång", "lägesbild", "lyfta ett ärende", "insats", "åtgärdsplan"):
        assert term in glossary
    # The words the glossary rules out are gone from the Swedish catalog.
    with SV_PO.open("rb") as fh:
        catalog = read_po(fh, locale="sv", domain="samverkan")
    ruled_out = re.compile(
        # "skatta" in any form ("skattade områden"): the glossary's verb is "bedöma".
        r"skattn|skatta|koordinator|förfallodag|anmälande verksamhet|\bansvarig\b",
        re.I,
    )
    used = [
        entry.id
        for entry in catalog
        if entry.id and any(ruled_out.search(text or "") for text in _texts(entry.string))
    ]
    assert used == []


# --- surfaces rendered with one and with two ----------------------------------------------


def _status(rated: int) -> RoundStatus:
    moment = dt.datetime(2026, 11, 25, 11, 0, tzinfo=dt.UTC)
    return RoundStatus(
        round_id=1,
        status=RatingRoundStatus.OPEN,
        forum_name="OSF",
        meeting_start=moment + dt.timedelta(days=1),
        opens_at=moment - dt.timedelta(days=3),
        deadline_at=moment,
        original_deadline_at=None,
        timezone="Europe/Stockholm",
        agencies=(AgencyStatus(1, "Polis", "partial", rated, moment),),
        your_agency_id=1,
        is_coordinator=True,
        can_extend=True,
    )


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, ["delvis (1 område)", "1 av 1 verksamhet svarade", "Du har 1 försenad insats"]),
        (2, ["delvis (2 områden)", "2 av 2 verksamheter svarade", "Du har 2 försenade insatser"]),
    ],
)
def test_counts_read_right_with_one_and_with_two(n: int, words: list[str]) -> None:
    text = all_text(status_blocks(SV, _status(n)))
    shown = picture(areas=2, agencies=n)
    text += all_text(picture_blocks(SV, shown))
    today = dt.date(2026, 11, 23)
    text += all_text(digest_message(SV, _overdue(n, today), n, today))
    for word in words:
        assert word in text


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (
            1,
            [
                "Någon du är ersättare för har 1 försenad insats.",
                "Den ligger kvar hos sin verksamhet tills någon tar över den.",
                "Ägaren har lämnat forumet.",
            ],
        ),
        (
            2,
            [
                "Någon du är ersättare för har 2 försenade insatser.",
                "De ligger kvar hos sina verksamheter tills någon tar över dem.",
            ],
        ),
    ],
)
def test_the_stand_ins_digest_and_the_coordinators_note_count_right_with_one_and_two(
    n: int, words: list[str]
) -> None:
    # "3 försenade insatser för någon du är ersättare för" and "De ligger kvar …" under
    # "1 insats … saknar nu ägare" before.
    today = dt.date(2026, 11, 23)
    away = StandIn(owner="U2", until=dt.date(2026, 12, 4))
    text = all_text(digest_message(SV, _overdue(n, today), n, today, away))
    text += all_text(released_message(SV, "FOSSAM", _overdue(n, today), today=today))
    for word in words:
        assert word in text


def _overdue(n: int, today: dt.date) -> list[ActionRow]:
    return [
        ActionRow(
            id=i,
            forum_id=1,
            forum_name="FOSSAM",
            description="Samtal",
            agency_id=1,
            agency="Elevhälsa",
            owner="U2",
            due_on=today - dt.timedelta(days=3),
            status=ActionStatus.OPEN,
            overdue=True,
            effect=None,
            follow_up_comment=None,
            followed_up_by=None,
            case_reference=None,
            area=None,
            hoped_effect=None,
            completed_at=None,
        )
        for i in range(1, n + 1)
    ]


def test_the_settings_modal_counts_hours_and_days_right() -> None:
    from domain.ratings import RatingSettings

    text = all_text(settings_modal(SV, RatingSettings(), meetings=[], tz="Europe/Stockholm",
                                   private_metadata=""))  # fmt: skip
    for word in (
        "1 timme före svarstiden",
        "2 timmar före svarstiden",
        "1 dag före",
        "2 dagar före",
    ):
        assert word in text
    assert "timme/timmar" not in text and "dag(ar)" not in text


@pytest.mark.parametrize(("n", "expected"), [(1, "högst 1 tecken"), (500, "högst 500 tecken")])
def test_a_domain_error_with_a_count_takes_the_right_form(n: int, expected: str) -> None:
    error = InvalidInput(
        N_plural(
            "The comment can be at most {n} character.",
            "The comment can be at most {n} characters.",
        ),
        n=n,
    )
    assert expected in error_text(SV, error)
    english = error_text(Translator("en"), error)
    assert english.endswith("1 character." if n == 1 else "500 characters.")


def test_the_label_check_finds_doubled_and_false_optional_marks() -> None:
    from tests.support.labels import label_problems

    def view(label: str, *, optional: bool, hint: str = "") -> dict[str, object]:
        block: dict[str, object] = {
            "type": "input",
            "label": {"type": "plain_text", "text": label},
            "optional": optional,
        }
        if hint:
            block["hint"] = {"type": "plain_text", "text": hint}
        return {"blocks": [block]}

    assert label_problems(view("Kommentar om Gråbo (frivillig)", optional=True))
    assert label_problems(view("Anteckning", optional=True, hint="Valfri, t.ex. …"))
    assert label_problems(view("Sammanfattning (valfritt)", optional=False))
    assert label_problems(view("Kommentar om Gråbo", optional=True)) == []


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, ["1 ärende lyft", "1 av 1 enkät besvarad", "högst 1 tecken"]),
        (2, ["2 ärenden lyfta", "1 av 2 enkäter besvarade", "högst 2 tecken"]),
    ],
)
def test_criteria_feedback_and_the_storage_edge_count_right_with_one_and_two(
    n: int, words: list[str]
) -> None:
    from domain.criteria import CriteriaStats, Criterion, CriterionCount
    from domain.errors import TextTooLong
    from domain.feedback import QUESTIONS, FeedbackResults
    from handlers.blocks.criteria import criteria_message
    from handlers.blocks.feedback import results_message

    day = dt.date(2026, 11, 23)
    text = all_text(
        criteria_message(
            SV,
            forum_name="FOSSAM",
            criteria=[Criterion(1, "Skolfrånvaro", None)],
            stats=CriteriaStats(n, 1, (CriterionCount("Skolfrånvaro", 1, True),)),
            period="2026",
        )
    )
    answered = FeedbackResults(
        surveys_sent=n,
        surveys_answered=1,
        sums=dict.fromkeys(QUESTIONS, 4),
        distributions={key: {4: 1} for key in QUESTIONS},
        family_views=0,
    )
    text += all_text(
        results_message(
            SV,
            answered,
            forum_name="FOSSAM",
            start=day,
            end=day,
            coordinator=False,
            period_value="2026",
        )
    )
    text += error_text(SV, TextTooLong(n=n, length=n + 1))
    for word in words:
        assert word in text

"""App Home's sections share Slack's 100 blocks (handlers.blocks.home): an entry whole or not
at all, every section its first entry where it fits, the rest in turn by importance, and a
line for what was left out."""

from __future__ import annotations

from handlers.blocks.common import Block
from handlers.blocks.home import HomeSection, fit_sections


def _block(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _section(name: str, entries: int, size: int, *, left_out: int = 0) -> HomeSection:
    return HomeSection(
        head=[_block(f"{name} head")],
        entries=[[_block(f"{name} {i}.{b}") for b in range(size)] for i in range(entries)],
        more=lambda n: _block(f"{name} more {n}"),
        left_out=left_out,
    )


def _texts(blocks: list[Block]) -> list[str]:
    return [b["text"]["text"] for b in blocks]


def test_everything_fits_without_a_more_line() -> None:
    sections = [_section("a", 3, 2), _section("b", 2, 1)]
    texts = _texts(fit_sections(sections, importance=[1, 0], room=98))
    a = ["a head", "a 0.0", "a 0.1", "a 1.0", "a 1.1", "a 2.0", "a 2.1"]
    assert texts == [*a, "b head", "b 0.0", "b 1.0"]


def test_many_entries_share_the_room_and_say_what_was_left_out() -> None:
    forums, actions = _section("f", 30, 4), _section("a", 8, 1, left_out=5)
    deviations = _section("d", 40, 6)
    blocks = fit_sections([forums, actions, deviations], importance=[1, 2, 0], room=98)
    texts = _texts(blocks)
    assert len(blocks) <= 98
    # The actions, most important, all shown; their own cap still told.
    assert [t for t in texts if t.startswith("a ") and ".0" in t] == [f"a {i}.0" for i in range(8)]
    assert "a more 5" in texts
    # Every section keeps its heading, its first entry (whole) and says what it left out.
    for name, total, size in (("f", 30, 4), ("d", 40, 6)):
        shown = [t for t in texts if t.startswith(f"{name} ") and t.endswith(".0")]
        assert shown and all(
            f"{name} {i}.{b}" in texts for i in range(len(shown)) for b in range(size)
        )
        assert f"{name} more {total - len(shown)}" in texts
    # In their order.
    assert texts.index("f head") < texts.index("a head") < texts.index("d head")


def test_headings_that_do_not_fit_leave_the_least_important_section_out() -> None:
    # Two blocks each: a heading and its entry, or, with no room for the entry, its line.
    sections = [_section(str(i), 1, 1) for i in range(5)]
    texts = _texts(fit_sections(sections, importance=[4, 3, 2, 1, 0], room=6))
    assert texts == ["2 head", "2 0.0", "3 head", "3 0.0", "4 head", "4 0.0"]

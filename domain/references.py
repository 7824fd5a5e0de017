"""A case reference someone typed that names no case: what the refusal may repeat of it."""

from __future__ import annotations

import re

from domain import privacy
from domain.errors import InvalidInput
from domain.i18n import N_

# The reference the help shows where no forum's own can be (a DM, a channel with no forum).
EXAMPLE_REFERENCE = "FOS-2026-017"
# A case reference as the forms make them (FOS-2026-017), upper case.
REFERENCE_SHAPE = re.compile(r"^[A-ZÅÄÖ][A-ZÅÄÖ0-9]{1,5}-[0-9]{4}-[0-9]{1,6}$")
# What "no case X" may repeat of what was typed: a reference in that shape, with fewer
# digits than any identity number has (10), and nothing the privacy guard finds. Anything
# else (a personnummer typed where the reference goes, or one dressed as a reference:
# PN-1701-102384) is not sent back to Slack.
_NUMBER_DIGITS = 10


def no_such_case(
    typed: str, *, field: str | None = None, error: type[InvalidInput] = InvalidInput
) -> InvalidInput:
    """The refusal for a typed reference that names no case of the forum (``error``:
    InvalidInput, or CaseNotFound where the attempt is audited)."""
    shown = typed.strip()[:32]
    plain = (
        REFERENCE_SHAPE.match(shown.upper()) is not None
        and sum(ch.isdigit() for ch in shown) < _NUMBER_DIGITS
        and not privacy.find_identifying(shown)
    )
    if plain:
        return error(
            N_("There is no case {reference} in this forum."), field=field, reference=shown
        )
    return error(N_("There is no case with that reference in this forum."), field=field)


def example_reference(code: str, year: int) -> str:
    """A reference as the forum's cases get them (``domain.cases.raising``): its code, the
    year, a number ("SOL-2027-017"), for the help's examples."""
    return f"{code}-{year}-017"

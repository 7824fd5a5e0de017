"""What the guard reports: a finding (kind, span, message) and the messages per kind."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from domain.i18n import N_

MSGIDS: Final[Mapping[str, str]] = {
    "personnummer": N_(
        "This looks like a personal identity number (personnummer): please remove it and use "
        "the case reference and non-identifying text instead."
    ),
    "samordningsnummer": N_(
        "This looks like a coordination number (samordningsnummer): please remove it and use "
        "the case reference and non-identifying text instead."
    ),
    "phone": N_(
        "This looks like a phone number: please remove it and use the case reference and "
        "non-identifying text instead."
    ),
    "email": N_(
        "This looks like an e-mail address: please remove it and use the case reference and "
        "non-identifying text instead."
    ),
    "address": N_(
        "This looks like a street address: please remove it and use the case reference and "
        "non-identifying text instead."
    ),
    "name": N_(
        "This looks like a person's name: please remove it and use the case reference and "
        "non-identifying text instead."
    ),
}


@dataclass(frozen=True)
class Finding:
    """One piece of identifying data found in a text."""

    kind: str  # "personnummer" | "samordningsnummer" | "phone" | "email" | "address" | "name"
    start: int  # span in the text: text[start:end]
    end: int
    msgid: str  # English sentence, N_()-marked, translated by the caller

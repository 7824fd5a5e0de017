"""Typed domain errors. Handlers turn them into a friendly message in the user's language.

Each error carries a gettext msgid (English source text, translated through the Babel
catalogs) and the keyword arguments for it, plus the modal field it belongs to where
there is one, so a modal can show the error on that field and keep what the user typed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.i18n import N_, N_plural


class DomainError(Exception):
    """Base class: a refusal the user can understand and act on. A message with a count
    takes both forms (``N_plural(singular, plural)``) and the count as ``n``."""

    msgid: str = N_("Something went wrong. Please try again.")
    plural: str | None = None

    def __init__(
        self,
        msgid: str | tuple[str, str] | None = None,
        *,
        field: str | None = None,
        **params: Any,
    ):
        if isinstance(msgid, tuple):
            self.msgid, self.plural = msgid
        else:
            self.msgid = msgid or type(self).msgid
            self.plural = type(self).plural
        self.field = field
        self.params = params
        super().__init__(self.msgid.format(**params) if params else self.msgid)


class NotAMember(DomainError):
    msgid = N_("Only members of this forum can do that. Ask the forum's coordinator to add you.")


class NotCoordinator(DomainError):
    msgid = N_("Only the forum's coordinators can do that.")


class CaseChangeRefused(NotCoordinator):
    """A change from a case's modal (its status, closing it, consent, agencies, SIP, legal
    hold) refused to a member of the forum: neither the raising agency nor a coordinator
    (``reason`` ``not_theirs``), no coordinator where only they may (``not_coordinator``),
    or a coordinator whose agency may not see the detail it changes (``details_hidden``).
    Audited as a refusal at the case's door, ``attempt`` naming the change (a word of
    ours, nothing of the case)."""

    def __init__(self, msgid: str, *, attempt: str, reason: str = "not_theirs"):
        super().__init__(msgid)
        self.attempt = attempt
        self.reason = reason


class ForumNotFound(DomainError):
    msgid = N_(
        "There is no forum in this channel yet. "
        "Create one with /samverkan forum new: whoever creates it becomes its admin."
    )


class ForumExists(DomainError):
    msgid = N_("This channel already has a forum ({name}).")


class CodeTaken(DomainError):
    msgid = N_("The code {code} is already used by another forum.")


class InvalidInput(DomainError):
    """A value the user typed that cannot be used (bad code, empty name, bad schedule …)."""


class CaseNotFound(InvalidInput):
    """No case of that id in the reader's forum (none at all, or another forum's)."""

    msgid = N_("That case does not exist in this forum.")


# What a case named by its id alone from a direct message (its "open the case" button: no
# forum's channel) tells anyone it does not open for: removed (by retention), another
# forum's, another workspace's, none. One answer for all, so it says nothing of which.
CASE_NOT_FOUND_FROM_DM = N_("That case does not exist, or you do not have access to it.")


class NotInCasesForum(CaseNotFound, NotAMember):
    """A case, named by its id alone (a DM's button, its modal), of a forum the user is not
    in: told as :class:`CaseNotFound` (a different answer would tell them that a case of that
    id exists), and audited as the non-member's attempt it is (a :class:`NotAMember`)."""


class CaseOfAnotherWorkspace(CaseNotFound, ForumNotFound):
    """A case, named by its id alone, of another workspace's forum: told as
    :class:`CaseNotFound`, and audited as a request with no forum here (a
    :class:`ForumNotFound`)."""


class DateOutOfRange(InvalidInput):
    """A date (a crafted one: a date picker offers no such year) too far from now for any
    date this product keeps: counting weeks or working days from year 9999 overflows."""

    msgid = N_("Choose a date between the years {first} and {last}.")


EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)


def check_date(value: dt.date | None, *, field: str | None = None) -> dt.date | None:
    """``value`` when it is none or within the years any date here may have; otherwise a
    :class:`DateOutOfRange`: on a modal's ``field`` as :class:`InputErrors` (so the modal
    keeps what was typed on every surface that shows field errors), or, for a date typed in
    a command, on its own."""
    if value is None or EARLIEST_DATE <= value <= LATEST_DATE:
        return value
    error = DateOutOfRange(field=field, first=EARLIEST_DATE.year, last=LATEST_DATE.year)
    raise InputErrors({field: error}) if field else error


def comment_too_long(limit: int, *, field: str = "comment") -> InvalidInput:
    """A comment over its limit (actions' follow-up, steering goals, feedback answers)."""
    return InvalidInput(
        N_plural(
            "The comment can be at most {n} character.",
            "The comment can be at most {n} characters.",
        ),
        field=field,
        n=limit,
    )


class IdentifyingDataRefused(DomainError):
    """Free text that contains what looks like personal data (privacy guard)."""

    msgid = N_(
        "This looks like identifying data. Identifying details must never be written here: "
        "use the case reference and non-identifying text."
    )


class TextTooLong(DomainError):
    """Free text longer than its column allows (the storage edge, domain/privacy_wall.py)."""

    msgid, plural = N_plural(
        "This text is too long: it can be at most {n} character (it has {length}).",
        "This text is too long: it can be at most {n} characters (it has {length}).",
    )


class DatabaseUnavailable(DomainError):
    msgid = N_("The database is not answering right now. Please try again in a moment.")


class InputErrors(DomainError):
    """Several field errors at once, so a modal can mark every field that needs fixing."""

    msgid = N_("Some fields need to be fixed.")

    def __init__(self, errors: dict[str, DomainError]):
        super().__init__()
        self.errors = errors

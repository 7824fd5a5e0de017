"""The half-year review (OSF's "längre avstämningar två gånger per år") for one forum and
period: the situation picture's trend per area, actions started / done / on time / effect,
cases by concern, raising agency and age band, SIP share and outcome, deviations, feedback,
case criteria met and attendance per agency.

:func:`collect` reads the exact figures in a fixed number of queries; :func:`masked` turns
them into what may leave the forum (``domain.small_numbers``: 1–4 become "färre än 5");
:func:`document` and :func:`workbook` render only the masked figures, as PDF/docx and xlsx.

Sent by itself (:func:`send_due`) after the forum's review periods end (by default after
30 June and 31 December) to the coordinators, with a short summary in the channel: one
claim row per forum and period (``scheduling.claim``), files and messages through the
outbox, so it happens once whatever the number of replicas.

Parts: ``figures`` (settings and the exact figures of a period), ``masking`` (what may
leave the forum: the small-number rule applied), ``documents`` (the PDF, docx and xlsx),
``sending`` (sent by itself, claimed once). Every public name is importable from here.
"""

from __future__ import annotations

from domain.review.documents import (
    add_sections,
    document,
    files,
    level_names,
    trend_label,
    trend_note,
    workbook,
)
from domain.review.figures import (
    CATCH_UP,
    EFFECTS,
    KIND,
    SEND_AT,
    AreaTrend,
    ReviewData,
    ReviewSettings,
    area_trends,
    collect,
    not_compared,
    review_settings,
    save_settings,
)
from domain.review.masking import (
    ReviewFigures,
    build,
    masked,
    masked_period,
)
from domain.review.sending import (
    Due,
    ReviewMessages,
    due_reviews,
    send_due,
)

__all__ = [
    "CATCH_UP",
    "EFFECTS",
    "KIND",
    "SEND_AT",
    "AreaTrend",
    "Due",
    "ReviewData",
    "ReviewFigures",
    "ReviewMessages",
    "ReviewSettings",
    "add_sections",
    "area_trends",
    "build",
    "collect",
    "document",
    "due_reviews",
    "files",
    "level_names",
    "masked",
    "masked_period",
    "not_compared",
    "review_settings",
    "save_settings",
    "send_due",
    "trend_label",
    "trend_note",
    "workbook",
]

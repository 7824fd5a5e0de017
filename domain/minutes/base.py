"""The minutes' surfaces, kinds and limits."""

from __future__ import annotations

import datetime as dt

from domain import pages

MEETING_DM = "meeting_dm"
MINUTES_PROMPT = "minutes_prompt"
PREPARATION_SURFACE = "meeting_preparation"
MINUTES_SURFACE = "minutes"
DECISION_MAX = 1000
# Cases on one page of the minutes form (domain.pages): a meeting with more cases is minuted
# page by page.
PAGE_CASES = pages.PAGE_CASES
# A prompt or DM older than this is not caught up any more (a bot down for days).
CATCH_UP = dt.timedelta(days=2)

"""Block Kit for rating rounds and the situation picture: the DM that asks an agency to
rate, the rating modal (paged: ≤ 100 blocks whatever the number of areas), the picture
(compact: ≤ 20 blocks even for 40 areas), the coordinator's status, the settings modal.

Channel messages carry areas, agencies and levels only; comments stay in the modal.
Everything a user typed (area and agency names) is escaped for mrkdwn.

Parts: ``base`` (ids, values, numbers and levels in words), ``messages`` (the DM asking
an agency to rate, the missed-round DM, the renderers domain.ratings asks for), ``modal``
(the rating modal), ``picture`` (the picture in the channel), ``status`` (`/samverkan
lägesbild`), ``settings`` (the settings and comments modals). Every name is importable from
here.
"""

from __future__ import annotations

from handlers.blocks.ratings.base import (
    ACTION_CLOSE,
    ACTION_COMMENTS,
    ACTION_EXPORT_CSV,
    ACTION_EXPORT_XLSX,
    ACTION_EXTEND,
    ACTION_RATE,
    ACTION_SETTINGS,
    AREAS_PER_PAGE,
    CB_RATE,
    CB_SETTINGS,
    CHART_AXIS_LABEL_MAX,
    CHART_LABEL_MAX,
    CHART_POINTS_MAX,
    CHART_SERIES_MAX,
    CHART_TITLE_MAX,
    FIELDS_PER_SECTION,
    LEVEL_EMOJI,
    PICTURE_BLOCKS_MAX,
    SETTINGS_FIELDS,
    STATE_EMOJI,
    TABLE_COLUMNS_MAX,
    TABLE_ROWS_MAX,
    TREND,
    invite_value,
    level_text,
    number,
    parse_pair,
)
from handlers.blocks.ratings.messages import (
    RENDERERS,
    SlackRenderers,
    invite_message,
    missed_message,
)
from handlers.blocks.ratings.modal import (
    escalation_text,
    escalations_text,
    page_count,
    page_rows,
    rating_modal,
    saved_modal,
)
from handlers.blocks.ratings.picture import (
    legend,
    picture_blocks,
    picture_message,
    picture_table,
    trend_chart,
    trend_charts,
)
from handlers.blocks.ratings.settings import (
    comments_modal,
    settings_modal,
)
from handlers.blocks.ratings.status import (
    overview_message,
    status_blocks,
)

__all__ = [
    "ACTION_CLOSE",
    "ACTION_COMMENTS",
    "ACTION_EXPORT_CSV",
    "ACTION_EXPORT_XLSX",
    "ACTION_EXTEND",
    "ACTION_RATE",
    "ACTION_SETTINGS",
    "AREAS_PER_PAGE",
    "CB_RATE",
    "CB_SETTINGS",
    "CHART_AXIS_LABEL_MAX",
    "CHART_LABEL_MAX",
    "CHART_POINTS_MAX",
    "CHART_SERIES_MAX",
    "CHART_TITLE_MAX",
    "FIELDS_PER_SECTION",
    "LEVEL_EMOJI",
    "PICTURE_BLOCKS_MAX",
    "RENDERERS",
    "SETTINGS_FIELDS",
    "STATE_EMOJI",
    "TABLE_COLUMNS_MAX",
    "TABLE_ROWS_MAX",
    "TREND",
    "SlackRenderers",
    "comments_modal",
    "escalation_text",
    "escalations_text",
    "invite_message",
    "invite_value",
    "legend",
    "level_text",
    "missed_message",
    "number",
    "overview_message",
    "page_count",
    "page_rows",
    "parse_pair",
    "picture_blocks",
    "picture_message",
    "picture_table",
    "rating_modal",
    "saved_modal",
    "settings_modal",
    "status_blocks",
    "trend_chart",
    "trend_charts",
]

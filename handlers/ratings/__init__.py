"""Listeners for rating rounds and the situation picture. Parse → ack → domain → render.

``/samverkan lägesbild`` (status for everyone; coordinators close early, extend, export and
change the settings), ``/samverkan lägesbild bedöm`` (the rating modal),
``/samverkan lägesbild export [from] [to]`` (xlsx and CSV by DM), ``/samverkan borta
<day> [@stand-in]`` / ``/samverkan tillbaka``. The rating modal is reached from the DM the
round sends, so its forum comes from the round, not from a channel.

Parts: ``base`` (words, metadata, days, access), ``command`` (the command and its
subcommands), ``modal`` (the rating modal), ``coordinator`` (the buttons under the status
and the settings modal). The ``register(app)`` table is here.
"""

from __future__ import annotations

from slack_bolt import App

from handlers.blocks import ratings as ui
from handlers.payload import ack_only
from handlers.ratings.base import (
    AWAY,
    BACK,
    EXPORT,
    PICTURE,
    RATE,
    SETTINGS,
    WORDS,
    RatingMeta,
    parse_day,
)
from handlers.ratings.command import away, export, open_settings, overview, route
from handlers.ratings.coordinator import (
    close_now,
    export_latest,
    extend,
    open_comments,
    settings_button,
    submit_settings,
)
from handlers.ratings.modal import (
    close_rating,
    deliver,
    open_rating,
    open_rating_from_channel,
    submit_rating,
)

__all__ = [
    "AWAY",
    "BACK",
    "EXPORT",
    "PICTURE",
    "RATE",
    "SETTINGS",
    "WORDS",
    "RatingMeta",
    "away",
    "close_now",
    "deliver",
    "export",
    "export_latest",
    "extend",
    "open_comments",
    "open_rating",
    "open_rating_from_channel",
    "open_settings",
    "overview",
    "parse_day",
    "register",
    "route",
    "settings_button",
    "submit_rating",
    "submit_settings",
]


def register(app: App) -> None:
    app.action(ui.ACTION_RATE)(ack=ack_only, lazy=[open_rating])
    app.view(ui.CB_RATE)(ack=submit_rating, lazy=[deliver])
    app.view_closed(ui.CB_RATE)(ack=ack_only, lazy=[close_rating])
    app.action(ui.ACTION_CLOSE)(ack=ack_only, lazy=[close_now])
    app.action(ui.ACTION_EXTEND)(ack=ack_only, lazy=[extend])
    for action_id in (ui.ACTION_EXPORT_XLSX, ui.ACTION_EXPORT_CSV):
        app.action(action_id)(ack=ack_only, lazy=[export_latest])
    app.action(ui.ACTION_SETTINGS)(ack=ack_only, lazy=[settings_button])
    app.action(ui.ACTION_COMMENTS)(ack=ack_only, lazy=[open_comments])
    app.view(ui.CB_SETTINGS)(ack=submit_settings, lazy=[])

"""Block Kit and mrkdwn as HTML, for the sandbox page.

Pure functions: a payload in, an HTML string out. Every piece of text from a payload goes
through :func:`html.escape` (attributes too), and links keep only ``http``, ``https`` and
``mailto`` URLs, so nothing a bot or a user typed can run script in the page.

Interactive elements carry ``data-*`` attributes (``data-block-id``, ``data-action-id``,
``data-type``) that the page's script reads to send ``block_actions`` and collect
``view.state.values``; :func:`state_values` turns what the script collected back into the
shapes Slack sends.

Parts: ``text`` (plain text and mrkdwn), ``elements`` (interactive elements),
``blocks`` (blocks, messages, views), ``state`` (what the page sends back, in Slack's
shapes).
"""

from __future__ import annotations

from sandbox.blockkit_html.blocks import (
    CHART_COLOURS,
    render_block,
    render_blocks,
    render_message,
    render_view,
)
from sandbox.blockkit_html.elements import (
    render_element,
)
from sandbox.blockkit_html.state import (
    action_payload,
    element_state,
    find_element,
    initial_raw,
    option_value,
    state_values,
)
from sandbox.blockkit_html.text import (
    EMOJI,
    INPUT_TYPES,
    SAFE_URL,
    RenderContext,
    esc,
    mrkdwn,
    plain,
    text_html,
)

__all__ = [
    "CHART_COLOURS",
    "EMOJI",
    "INPUT_TYPES",
    "SAFE_URL",
    "RenderContext",
    "action_payload",
    "element_state",
    "esc",
    "find_element",
    "initial_raw",
    "mrkdwn",
    "option_value",
    "plain",
    "render_block",
    "render_blocks",
    "render_element",
    "render_message",
    "render_view",
    "state_values",
    "text_html",
]

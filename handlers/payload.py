"""Small readers of Slack payloads shared by the listeners, and the bare ack."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import parse_qsl

from slack_bolt import Ack

from handlers.http import decode_form, load_json, without_untypeable


def ack_only(ack: Ack) -> None:
    """Acknowledge at once; a lazy listener does the work (and the Slack calls)."""
    ack()


def team_of(body: dict[str, Any]) -> str:
    """The workspace an interactive payload came from ("" when it does not say)."""
    team, user = body.get("team"), body.get("user")
    return str(
        (team.get("id") if isinstance(team, dict) else None)
        or (user.get("team_id") if isinstance(user, dict) else None)
        or ""
    )


def channel_of(body: dict[str, Any]) -> str:
    """The channel a block action came from (message actions carry it in two places)."""
    return str(
        (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id")
        or ""
    )


# --- the shape of what arrives on /slack/events -----------------------------------------------
#
# Slack's own requests always have these shapes; a request that does not is answered 400
# (MALFORMED) before bolt or a listener reads it (a listener would fail half-way with a
# traceback). What one listener needs besides (its button is in a modal, or in a message)
# is its ``needs`` (see :func:`needs_problem`), checked the same way once bolt has matched it.
# Events are checked only as far as their envelope (and a listener's ``needs``: what every
# event of its type has): an event Slack really sent is never refused, because Slack retries
# refused events and turns off an app that refuses many.

MALFORMED = {"error": "malformed request"}  # the answer to either, with status 400

_INTERACTIVE_WITH_USER = {
    "block_actions",
    "view_submission",
    "view_closed",
    "shortcut",
    "message_action",
    "block_suggestion",
}
_VALUE_KEYS_STR: tuple[str, ...] = (
    "value",
    "selected_user",
    "selected_date",
    "selected_time",
    "selected_channel",
    "selected_conversation",
    "action_id",
    "type",
)


def _is_str(value: Any, *, optional: bool = False) -> bool:
    return isinstance(value, str) or (optional and value is None)


def _option_ok(option: Any) -> bool:
    return isinstance(option, dict) and _is_str(option.get("value"))


def _element_ok(element: Any) -> bool:
    if not isinstance(element, dict):
        return False
    for key in _VALUE_KEYS_STR:
        if key in element and not _is_str(element[key], optional=True):
            return False
    chosen = element.get("selected_option")
    if chosen is not None and not _option_ok(chosen):
        return False
    many = element.get("selected_options") or []
    if not (isinstance(many, list) and all(_option_ok(o) for o in many)):
        return False
    for key in ("selected_users", "selected_channels", "selected_conversations"):
        if key in element and not (
            isinstance(element[key], list) and all(isinstance(v, str) for v in element[key])
        ):
            return False
    return True


def _view_ok(view: Any, *, submitted: bool = False) -> bool:
    """A view as Slack sends it; a submitted one always has its id and its state."""
    if not isinstance(view, dict):
        return False
    if submitted and not (isinstance(view.get("id"), str) and isinstance(view.get("state"), dict)):
        return False
    if not _is_str(view.get("callback_id"), optional=True):
        return False
    if not _is_str(view.get("private_metadata"), optional=True):
        return False
    if not _is_str(view.get("id"), optional=True):
        return False
    state = view.get("state", {"values": {}})
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict):
        return False
    for elements in values.values():
        if not isinstance(elements, dict):
            return False
        if not all(_element_ok(e) for e in elements.values()):
            return False
    blocks = view.get("blocks", [])
    return isinstance(blocks, list) and all(isinstance(b, dict) for b in blocks)


def _interactive_problem(payload: dict[str, Any]) -> str | None:
    kind = payload.get("type")
    if not isinstance(kind, str):
        return "no type"
    if kind in _INTERACTIVE_WITH_USER:
        user = payload.get("user")
        if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
            return "no user"
    team = payload.get("team")
    if team is not None and not (isinstance(team, dict) and _is_str(team.get("id"), optional=True)):
        return "bad team"
    if kind == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions:
            return "no actions"
        if not all(_element_ok(a) and isinstance(a.get("action_id"), str) for a in actions):
            return "bad action"
        if not isinstance(payload.get("trigger_id"), str):
            return "no trigger_id"
        channel = payload.get("channel")
        if channel is not None and not (isinstance(channel, dict) and _is_str(channel.get("id"))):
            return "bad channel"
        if "view" in payload and not _view_ok(payload["view"]):
            return "bad view"
    if kind in ("view_submission", "view_closed") and not _view_ok(
        payload.get("view"), submitted=kind == "view_submission"
    ):
        return "bad view"
    for key in ("trigger_id", "response_url", "callback_id"):
        if key in payload and not _is_str(payload[key], optional=True):
            return f"bad {key}"
    return None


Need = Literal["modal", "message", "option", "event_user", "event_channel"]
"""What a listener reads that only some requests of its kind have: a button of a modal
reads the modal (``modal``: ``body["view"]``, its id), one of a message answers on the
message (``message``: its ``response_url``), a menu reads the option chosen (``option``:
``actions[0]["selected_option"]``), an event about a member their id (``event_user``) and
the channel (``event_channel``). Slack sends each listener only requests that have them; a
crafted one without is refused as malformed, before the listener runs."""


def needs_problem(body: dict[str, Any], needs: frozenset[Need]) -> str | None:
    """Why ``body`` lacks what a listener with these ``needs`` reads (None: it has it all)."""
    if "modal" in needs:
        view = body.get("view")
        if not (isinstance(view, dict) and view.get("type") == "modal" and _is_str(view.get("id"))):
            return "not from a modal"
    if "message" in needs and not (
        isinstance(body.get("response_url"), str) and body["response_url"]
    ):
        return "not from a message"
    if "option" in needs:
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else None
        if not (isinstance(first, dict) and _option_ok(first.get("selected_option"))):
            return "no option chosen"
    event = body.get("event")
    for need, key in (("event_user", "user"), ("event_channel", "channel")):
        if need in needs and not (isinstance(event, dict) and _is_str(event.get(key))):
            return f"no {key} in the event"
    return None


def _event_problem(body: dict[str, Any]) -> str | None:
    kind = body.get("type")
    if not isinstance(kind, str):
        return "no type"
    if kind == "url_verification" and not isinstance(body.get("challenge"), str):
        return "no challenge"
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "no event"
    return None


def request_problem(body: str, content_type: str | None) -> str | None:
    """Why a request to /slack/events is not shaped like anything Slack sends (a few words,
    no content), or None when it is. Parses the body the way bolt does."""
    return checked_body(body, content_type)[0]


# Python parses a JSON document nested almost as deep as its recursion limit allows here,
# near the top of the stack, but not where the body is parsed or walked again further down
# (bolt's copy of the request for a lazy listener, the strip of untypeable characters): a
# RecursionError there, its traceback logged after the answer. Slack's payloads nest a dozen
# levels; the check parses as if this many frames deeper, so what it passes parses anywhere.
CHECK_HEADROOM = 150
# A document is nested at most as deep as it has opening brackets: one with fewer than this
# parses and is walked anywhere (~40 µs of frames spared for all but the largest modals).
SHALLOW_ENOUGH = 400


def _load_checked(text: str) -> Any:
    """:func:`load_json` as the door parses: as if :data:`CHECK_HEADROOM` frames deeper."""
    if text.count("[") + text.count("{") < SHALLOW_ENOUGH:
        return load_json(text)
    return _load_deeper(text, CHECK_HEADROOM)


def _load_deeper(text: str, frames: int) -> Any:
    return load_json(text) if frames <= 0 else _load_deeper(text, frames - 1)


def checked_body(body: str, content_type: str | None) -> tuple[str | None, dict[str, Any] | None]:
    """:func:`request_problem`, and for a request without one the body as bolt will see it
    (what ``handlers.http.parse_body`` makes of it, with bolt's reading of the content type:
    the part before ``;``; stripped of untypeable characters), so it is not decoded twice."""
    if not body:
        return "empty body", None
    # Read exactly as bolt will (its content type unstripped, its "payload" rule below): a
    # body the check read otherwise would reach the listener unchecked.
    media = (content_type or "").split(";")[0]
    parsed: dict[str, Any] | None
    try:
        if media == "application/json" or body.startswith("{"):
            document = _load_checked(body)
            if not isinstance(document, dict):
                return "not a JSON object", None
            problem = _event_problem(document)
            return problem, document if problem is None else None
        # The fast decoder bolt's requests use too (handlers.http): a 10 kB modal submission
        # through urllib's parse_qsl cost milliseconds here, before every ack.
        form = (
            decode_form(body) if body.isascii() else dict(parse_qsl(body, keep_blank_values=True))
        )
        if "payload" in form and "payload" in body:  # not a percent-encoded name: bolt's rule
            # The JSON text as it came (as parse_body reads it, also for the lazy listeners'
            # copies): a control character in it as it is, which no JSON holds, is refused,
            # not stripped first into a document only this reading sees.
            payload = _load_checked(form["payload"])
            if not isinstance(payload, dict):
                return "payload is not a JSON object", None
            problem, parsed = _interactive_problem(payload), payload
        else:
            without_untypeable(form)  # a form's fields, stripped as parse_body strips them
            if form.get("ssl_check"):
                problem, parsed = None, form
            elif not form.get("command") or not form.get("user_id"):
                return "not a slash command", None
            else:
                problem, parsed = None, form
        if "payload" in body and "payload" not in form:
            parsed = {}  # bolt's rule: any "payload" in the body means an interactive one
        return problem, parsed if problem is None else None
    except (ValueError, RecursionError):
        return "not JSON", None

"""Send correctly signed, Slack-shaped requests to a running bot over HTTP.

Modelled on bolt-python's ``tests/scenario_tests``: every request is signed with
``slack_sdk.signature.SignatureVerifier`` and carries ``X-Slack-Request-Timestamp`` /
``X-Slack-Signature``. Slash commands are form encoded, interactivity is form encoded as
``payload=<json>``, Events API requests are JSON. Payload shapes follow what Slack sends, so
bolt extracts the request type, team, user, channel, ``view`` callback ids and ``action_id``s.

    driver = SlackDriver("http://127.0.0.1:3000", signing_secret="secret")
    driver.command("hjälp", user="U0001")
    driver.view_submission("new_case", {"title": {"input": plain_value("Ärende")}}, user="U0001")
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

__all__ = [
    "Response",
    "SlackDriver",
    "as_slack_sends",
    "channel_value",
    "checkbox_values",
    "conversation_value",
    "date_value",
    "multi_select_values",
    "multi_users_values",
    "number_value",
    "option",
    "plain_value",
    "radio_value",
    "select_value",
    "state_values",
    "time_value",
    "users_value",
]

APP_ID = "A0001"
BOT_ID = "B0001"
BOT_USER_ID = "UBOT"
VERIFICATION_TOKEN = "verification-token-stub"
# Port 9 (discard) on loopback: connections are refused at once, nothing is ever delivered.
HARMLESS_RESPONSE_URL_BASE = "http://127.0.0.1:9/response/"

StateValues = dict[str, dict[str, dict[str, Any]]]

# Slack's markup in a command's text (deploy/slack-manifest.yaml has should_escape: true).
_MARKUP = re.compile(r"<(?:[@#!][^<>]*|https?://[^<>]*|mailto:[^<>]*)>")


def as_slack_sends(typed: str) -> str:
    """A slash command's text as Slack sends it with ``should_escape: true``: the markup
    of a picked person/channel (``<@U…|name>``) as is, ``& < >`` elsewhere as entities."""

    def escape(part: str) -> str:
        return part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    out: list[str] = []
    pos = 0
    for match in _MARKUP.finditer(typed):
        out.append(escape(typed[pos : match.start()]))
        out.append(match.group())
        pos = match.end()
    out.append(escape(typed[pos:]))
    return "".join(out)


@dataclass
class Response:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    """Response headers, names lower-cased."""

    def json(self) -> Any:
        """The body parsed as JSON; ``None`` for an empty body (a plain ``ack()``)."""
        if not self.body.strip():
            return None
        return json.loads(self.body)


# ---------------------------------------------------------------------------------------------
# view.state.values shapes
# ---------------------------------------------------------------------------------------------


def option(value: str, text: str | None = None) -> dict[str, Any]:
    """An option object as Slack echoes it back in state values and actions."""
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


def plain_value(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def number_value(value: str | int | float | None) -> dict[str, Any]:
    return {"type": "number_input", "value": None if value is None else str(value)}


def select_value(value: str | None, text: str | None = None) -> dict[str, Any]:
    return {
        "type": "static_select",
        "selected_option": None if value is None else option(value, text),
    }


def multi_select_values(values: Iterable[str]) -> dict[str, Any]:
    return {"type": "multi_static_select", "selected_options": [option(v) for v in values]}


def users_value(user: str | None) -> dict[str, Any]:
    return {"type": "users_select", "selected_user": user}


def multi_users_values(users: Iterable[str]) -> dict[str, Any]:
    return {"type": "multi_users_select", "selected_users": list(users)}


def channel_value(channel: str | None) -> dict[str, Any]:
    return {"type": "channels_select", "selected_channel": channel}


def conversation_value(conversation: str | None) -> dict[str, Any]:
    return {"type": "conversations_select", "selected_conversation": conversation}


def checkbox_values(values: Iterable[str]) -> dict[str, Any]:
    return {"type": "checkboxes", "selected_options": [option(v) for v in values]}


def radio_value(value: str | None, text: str | None = None) -> dict[str, Any]:
    return {
        "type": "radio_buttons",
        "selected_option": None if value is None else option(value, text),
    }


def date_value(value: dt.date | str | None) -> dict[str, Any]:
    selected = value.isoformat() if isinstance(value, dt.date) else value
    return {"type": "datepicker", "selected_date": selected}


def time_value(value: dt.time | str | None) -> dict[str, Any]:
    selected = value.strftime("%H:%M") if isinstance(value, dt.time) else value
    return {"type": "timepicker", "selected_time": selected}


def state_values(entries: Mapping[tuple[str, str], dict[str, Any]]) -> StateValues:
    """``{(block_id, action_id): value}`` -> Slack's nested ``view.state.values``."""
    result: StateValues = {}
    for (block_id, action_id), value in entries.items():
        result.setdefault(block_id, {})[action_id] = value
    return result


def input_blocks(values: StateValues) -> list[dict[str, Any]]:
    """The input blocks of a modal that holds ``values`` (one per block id), for a submission
    that must look like the modal's: field errors go only on inputs the view has."""
    return [
        {"type": "input", "block_id": block_id, "element": dict(next(iter(elements.values())))}
        for block_id, elements in values.items()
        if elements
    ]


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------


class SlackDriver:
    """Signed Slack requests against a bot at ``base_url`` (e.g. ``http://127.0.0.1:3000``).

    Commands, interactivity and events are all POSTed to ``base_url + path`` (bolt's default
    ``/slack/events``). ``response_url_base`` defaults to a loopback address that refuses
    connections; pass ``SlackWebApiStub.response_url_base`` to record ``respond()`` calls.
    """

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        team_id: str = "T0001",
        clock: Callable[[], float] = time.time,
        path: str = "/slack/events",
        team_domain: str = "samverkan-test",
        api_app_id: str = APP_ID,
        response_url_base: str = HARMLESS_RESPONSE_URL_BASE,
        timeout: float = 10.0,
        enterprise_id: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # Set: requests come from a workspace of this Enterprise Grid organisation, through
        # the organisation's org-wide install.
        self.enterprise_id = enterprise_id
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.clock = clock
        self.path = path if path.startswith("/") else f"/{path}"
        self.team_domain = team_domain
        self.api_app_id = api_app_id
        self.response_url_base = response_url_base
        self.timeout = timeout
        self.last_event_id: str | None = None
        self.last_trigger_id: str | None = None
        self._verifier = SignatureVerifier(signing_secret)
        self._seq = itertools.count(1)
        self._run = uuid.uuid4().hex[:8]

    # -- signing / transport --------------------------------------------------------------------

    def signed_headers(self, body: str, *, timestamp: int | None = None) -> dict[str, str]:
        """``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` for ``body``.

        ``timestamp`` defaults to ``int(clock())``; pass an old one to build a stale request.
        """
        ts = str(int(self.clock()) if timestamp is None else timestamp)
        signature = self._verifier.generate_signature(timestamp=ts, body=body)
        assert signature is not None
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}

    def raw(self, path: str, body: bytes, headers: dict[str, str]) -> Response:
        """POST ``body`` as-is (no signing) to ``base_url + path``."""
        url = f"{self.base_url}{path if path.startswith('/') else '/' + path}"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                return Response(
                    status=resp.status,
                    body=resp.read().decode("utf-8", "replace"),
                    headers={k.lower(): v for k, v in resp.headers.items()},
                )
        except urllib.error.HTTPError as err:
            with err:
                return Response(
                    status=err.code,
                    body=err.read().decode("utf-8", "replace"),
                    headers={k.lower(): v for k, v in err.headers.items()},
                )

    def _send(
        self, body: str, content_type: str, extra_headers: Mapping[str, str] | None = None
    ) -> Response:
        headers = {"Content-Type": content_type, **self.signed_headers(body)}
        if extra_headers:
            headers.update(extra_headers)
        return self.raw(self.path, body.encode("utf-8"), headers)

    def _send_form(self, fields: Mapping[str, str]) -> Response:
        return self._send(urlencode(fields), "application/x-www-form-urlencoded")

    def _send_payload(self, payload: Mapping[str, Any]) -> Response:
        body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)})
        return self._send(body, "application/x-www-form-urlencoded")

    def _send_json(
        self, payload: Mapping[str, Any], extra_headers: Mapping[str, str] | None = None
    ) -> Response:
        return self._send(
            json.dumps(payload, ensure_ascii=False), "application/json", extra_headers
        )

    # -- ids and shared shapes ------------------------------------------------------------------

    def _n(self) -> int:
        return next(self._seq)

    def new_trigger_id(self) -> str:
        trigger_id = f"{int(self.clock())}{self._n():04d}.1000000001.{uuid.uuid4().hex[:20]}"
        self.last_trigger_id = trigger_id
        return trigger_id

    def new_response_url(self) -> str:
        return f"{self.response_url_base}{self.team_id}/{self._n()}/{self._run}"

    def _ts(self) -> str:
        return f"{self.clock():.6f}"

    def _user(self, user: str, user_name: str | None = None) -> dict[str, Any]:
        name = user_name or f"user.{user.lower()}"
        return {"id": user, "username": name, "name": name, "team_id": self.team_id}

    def _enterprise(self) -> dict[str, Any]:
        """An interactive payload's organisation fields."""
        if self.enterprise_id is None:
            return {"enterprise": None, "is_enterprise_install": False}
        return {
            "enterprise": {"id": self.enterprise_id, "name": "Regionen"},
            "is_enterprise_install": True,
        }

    def _team(self) -> dict[str, Any]:
        return {"id": self.team_id, "domain": self.team_domain}

    @staticmethod
    def _channel_name(channel: str) -> str:
        return "directmessage" if channel.startswith("D") else f"kanal-{channel.lower()}"

    def complete_view(
        self,
        view: Mapping[str, Any] | None = None,
        *,
        view_id: str = "V0001",
        callback_id: str = "",
        private_metadata: str = "",
        values: StateValues | None = None,
        blocks: list[Any] | None = None,
    ) -> dict[str, Any]:
        """A full ``view`` object as Slack sends it; keys in ``view`` win."""
        full: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": "modal",
            "blocks": blocks or [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": values or {}},
            "hash": f"{int(self.clock())}.{uuid.uuid4().hex[:8]}",
            "title": {"type": "plain_text", "text": "Samverkan", "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": {"type": "plain_text", "text": "Avbryt", "emoji": True},
            "submit": {"type": "plain_text", "text": "Spara", "emoji": True},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": self.api_app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": BOT_ID,
        }
        if view:
            full.update(view)
            if "id" in view and "root_view_id" not in view:
                full["root_view_id"] = view["id"]
        return full

    # -- slash commands -------------------------------------------------------------------------

    def command(
        self,
        text: str,
        *,
        user: str,
        channel: str = "C0001",
        command: str = "/samverkan",
        trigger_id: str | None = None,
        user_name: str | None = None,
        channel_name: str | None = None,
    ) -> Response:
        """``text`` as the user typed it; it is sent as Slack sends it (see
        :func:`as_slack_sends`): a person picked with @ is written ``<@U…|name>``."""
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel,
            "channel_name": channel_name or self._channel_name(channel),
            "user_id": user,
            "user_name": user_name or f"user.{user.lower()}",
            "command": command,
            "text": as_slack_sends(text),
            "api_app_id": self.api_app_id,
            **(
                {"enterprise_id": self.enterprise_id, "is_enterprise_install": "true"}
                if self.enterprise_id
                else {"is_enterprise_install": "false"}
            ),
            "response_url": self.new_response_url(),
            "trigger_id": trigger_id or self.new_trigger_id(),
        }
        return self._send_form(fields)

    # -- interactivity --------------------------------------------------------------------------

    def block_action(
        self,
        action_id: str,
        *,
        user: str,
        value: str | None = None,
        block_id: str = "b",
        channel: str | None = "C0001",
        view: dict[str, Any] | None = None,
        selected_option: dict[str, Any] | None = None,
        extra_action: dict[str, Any] | None = None,
        message: dict[str, Any] | None = None,
        trigger_id: str | None = None,
        user_name: str | None = None,
    ) -> Response:
        """A ``block_actions`` payload for one action.

        With ``view`` the action comes from a modal/home tab (``container.type == "view"``,
        the view is completed with :meth:`complete_view`, ``channel`` is ignored, no
        ``response_url``). Otherwise it comes from a message in ``channel``; ``message`` can
        carry the message's blocks/ts. The action is a button, or a ``static_select`` when
        ``selected_option`` is given; ``extra_action`` is merged last (e.g. ``{"type":
        "users_select", "selected_user": "U2"}``).
        """
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "action_ts": self._ts(),
        }
        if selected_option is not None:
            action.update({"type": "static_select", "selected_option": selected_option})
        else:
            action.update({"type": "button", "text": {"type": "plain_text", "text": action_id}})
            if value is not None:
                action["value"] = value
        if extra_action:
            action.update(extra_action)

        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user, user_name),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger_id or self.new_trigger_id(),
            "team": self._team(),
            **self._enterprise(),
        }
        if view is not None:
            full_view = self.complete_view(view)
            payload["container"] = {"type": "view", "view_id": full_view["id"]}
            payload["view"] = full_view
        elif channel is not None:
            msg: dict[str, Any] = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "app_id": self.api_app_id,
                "team": self.team_id,
                "text": "",
                "blocks": [],
                "ts": self._ts(),
            }
            if message:
                msg.update(message)
            payload["container"] = {
                "type": "message",
                "message_ts": msg["ts"],
                "channel_id": channel,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel, "name": self._channel_name(channel)}
            payload["message"] = msg
            payload["state"] = {"values": {}}
            payload["response_url"] = self.new_response_url()
        payload["actions"] = [action]
        return self._send_payload(payload)

    def view_submission(
        self,
        callback_id: str,
        values: StateValues,
        *,
        user: str,
        private_metadata: str = "",
        view_id: str = "V0001",
        blocks: list[Any] | None = None,
        view: dict[str, Any] | None = None,
        user_name: str | None = None,
    ) -> Response:
        """A ``view_submission``; ``values`` is ``{block_id: {action_id: <value shape>}}``.

        ``view`` overrides further fields of the submitted view (``title``, ``hash``, ...).
        """
        return self.send_payload(
            self.view_submission_payload(
                callback_id,
                values,
                user=user,
                private_metadata=private_metadata,
                view_id=view_id,
                blocks=blocks,
                view=view,
                user_name=user_name,
            )
        )

    def view_submission_payload(
        self,
        callback_id: str,
        values: StateValues,
        *,
        user: str,
        private_metadata: str = "",
        view_id: str = "V0001",
        blocks: list[Any] | None = None,
        view: dict[str, Any] | None = None,
        user_name: str | None = None,
    ) -> dict[str, Any]:
        """The payload :meth:`view_submission` sends (its trigger id and view hash drawn
        once): :meth:`send_payload` sends it, and sends the very same body again (a
        retry, a double click)."""
        full_view = self.complete_view(
            view,
            view_id=view_id,
            callback_id=callback_id,
            private_metadata=private_metadata,
            values=values,
            blocks=blocks,
        )
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user, user_name),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.new_trigger_id(),
            "view": full_view,
            "response_urls": [],
            **self._enterprise(),
        }
        return payload

    def send_payload(self, payload: Mapping[str, Any]) -> Response:
        """An interactive ``payload`` as Slack posts it (form encoded, freshly signed)."""
        return self._send_payload(payload)

    def view_closed(
        self,
        callback_id: str,
        *,
        user: str,
        private_metadata: str = "",
        view_id: str = "V0001",
        is_cleared: bool = False,
    ) -> Response:
        """A ``view_closed`` (sent only for views opened with ``notify_on_close``)."""
        full_view = self.complete_view(
            {"notify_on_close": True},
            view_id=view_id,
            callback_id=callback_id,
            private_metadata=private_metadata,
        )
        payload = {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "view": full_view,
            "is_cleared": is_cleared,
            **self._enterprise(),
        }
        return self._send_payload(payload)

    # -- Events API -----------------------------------------------------------------------------

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> Response:
        """Wrap ``event`` in an ``event_callback`` envelope and send it.

        The event id used is kept in :attr:`last_event_id` so a test can resend it with
        ``retry_num`` (adds ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason``).
        """
        now = self.clock()
        inner = dict(event)
        inner.setdefault("event_ts", f"{now:.6f}")
        event_id = event_id or f"Ev{self._run.upper()}{self._n():06d}"
        self.last_event_id = event_id
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": self.enterprise_id,
            "api_app_id": self.api_app_id,
            "event": inner,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": self.enterprise_id,
                    "team_id": self.team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": self.enterprise_id is not None,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self._send_json(envelope, headers)

    def app_home_opened(self, *, user: str, tab: str = "home") -> Response:
        return self.event(
            {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": tab}
        )

    def message(
        self, text: str, *, user: str, channel: str = "C0001", thread_ts: str | None = None
    ) -> Response:
        """A plain user ``message`` event (``channel_type`` ``im`` for ``D...`` channels)."""
        ts = self._ts()
        event: dict[str, Any] = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts,
            "team": self.team_id,
            "channel": channel,
            "channel_type": "im" if channel.startswith("D") else "channel",
            "event_ts": ts,
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        return self.event(event)

    def set_clock(self, instant: dt.datetime | str, *, signed: bool = True) -> Response:
        """``POST /_test/clock``, signed with the signing secret as the bot requires."""
        now = instant.isoformat() if isinstance(instant, dt.datetime) else instant
        body = json.dumps({"now": now})
        headers = {"Content-Type": "application/json"}
        if signed:
            headers.update(self.signed_headers(body))
        return self.raw("/_test/clock", body.encode("utf-8"), headers)

    def url_verification(self, challenge: str = "challenge-stub") -> Response:
        return self._send_json(
            {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        )

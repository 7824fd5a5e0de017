"""What a person does on the sandbox page, sent to the bot exactly as Slack sends it.

:class:`BotLink` signs requests with the signing secret (``X-Slack-Signature``,
``X-Slack-Request-Timestamp``) and posts them to the bot's ``/slack/events``.
:class:`Surface` builds Slack's payloads (slash commands, ``block_actions``,
``view_submission``, ``view_closed``, ``app_home_opened``) from what the page sends, and
applies the bot's answers (``response_action``) to the :class:`~sandbox.workspace.Workspace`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sandbox.blockkit_html import action_payload, find_element, state_values
from sandbox.webapi import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, validate_view
from sandbox.webapi.shapes import stored_view
from sandbox.workspace import ResponseTarget, Workspace, dm_of

__all__ = ["BotAnswer", "BotLink", "Surface"]

VERIFICATION_TOKEN = "sandbox-verification-token"


@dataclass(frozen=True)
class BotAnswer:
    status: int
    body: str

    def json(self) -> Any:
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except json.JSONDecodeError:
            return None


class BotLink:
    """Signed HTTP requests to the bot, as Slack makes them."""

    def __init__(self, base_url: str, signing_secret: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.signing_secret = signing_secret
        self.timeout = timeout

    def sign(self, body: str, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new(
            self.signing_secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256
        ).hexdigest()
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}

    def post(self, path: str, body: str, content_type: str, *, signed: bool = True) -> BotAnswer:
        headers = {"Content-Type": content_type}
        if signed:
            headers.update(self.sign(body))
        request = urllib.request.Request(
            self.base_url + path, data=body.encode("utf-8"), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return BotAnswer(response.status, response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as err:
            with err:
                return BotAnswer(err.code, err.read().decode("utf-8", "replace"))
        except OSError as exc:
            return BotAnswer(0, str(exc))

    def form(self, fields: Mapping[str, str]) -> BotAnswer:
        return self.post("/slack/events", urlencode(fields), "application/x-www-form-urlencoded")

    def payload(self, payload: Mapping[str, Any]) -> BotAnswer:
        body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)})
        return self.post("/slack/events", body, "application/x-www-form-urlencoded")

    def event(self, event: Mapping[str, Any]) -> BotAnswer:
        now = time.time()
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": {**event, "event_ts": f"{now:.6f}"},
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
        }
        return self.post("/slack/events", json.dumps(envelope), "application/json")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False


class Surface:
    """The page's actions, as Slack would send them, and the bot's answers applied."""

    def __init__(self, workspace: Workspace, link: BotLink, *, timezone: str) -> None:
        self.workspace = workspace
        self.link = link
        self.zone = zoneinfo.ZoneInfo(timezone)
        self._offset = dt.timedelta(0)
        self._lock = threading.Lock()

    # -- shapes ---------------------------------------------------------------------------

    def _user(self, user: str) -> dict[str, Any]:
        person = self.workspace.people.get(user)
        name = person.name if person else user
        return {"id": user, "username": name, "name": name, "team_id": TEAM_ID}

    def _channel(self, channel: str) -> dict[str, Any]:
        found = self.workspace.channels.get(channel)
        return {"id": channel, "name": found.name if found else "directmessage"}

    @staticmethod
    def _team() -> dict[str, Any]:
        return {"id": TEAM_ID, "domain": TEAM_DOMAIN}

    def _full_view(self, view: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        full = dict(view)
        full["state"] = {"values": values}
        full.setdefault("team_id", TEAM_ID)
        full.setdefault("app_id", APP_ID)
        full.setdefault("bot_id", BOT_ID)
        return full

    # -- slash commands -------------------------------------------------------------------

    def command(self, user: str, conversation: str, text: str) -> None:
        """What the message box does with ``text``: a slash command or a plain message."""
        ws = self.workspace
        ws.remember_conversation(user, conversation)
        text = text.strip()
        if not text:
            return
        if not text.startswith("/"):
            ws.post(conversation, author=user, text=text)
            return
        command, _, rest = text.partition(" ")
        if command != "/samverkan":
            ws.note(user, f"Okänt kommando {command}. Här finns bara /samverkan.")
            return
        ws.post(conversation, author=user, text=text, ephemeral_for=user)
        response_url = ws.new_response_url(ResponseTarget(user=user, channel=conversation))
        answer = self.link.form(
            {
                "token": VERIFICATION_TOKEN,
                "team_id": TEAM_ID,
                "team_domain": TEAM_DOMAIN,
                "channel_id": conversation,
                "channel_name": self._channel(conversation)["name"],
                "user_id": user,
                "user_name": self._user(user)["name"],
                "command": command,
                "text": rest.strip(),
                "api_app_id": APP_ID,
                "is_enterprise_install": "false",
                "response_url": response_url,
                "trigger_id": ws.new_trigger(user),
            }
        )
        self._immediate_reply(user, conversation, answer)

    def _immediate_reply(self, user: str, conversation: str, answer: BotAnswer) -> None:
        if answer.status != 200:
            self.workspace.note(
                user,
                f"Boten svarade inte som Slack väntar sig ({answer.status}).",
                conversation=conversation,
            )
            return
        reply = answer.json()
        if isinstance(reply, dict) and (reply.get("text") or reply.get("blocks")):
            in_channel = reply.get("response_type") == "in_channel"
            self.workspace.post(
                conversation,
                author=BOT_USER_ID,
                text=str(reply.get("text") or ""),
                blocks=reply.get("blocks"),
                attachments=reply.get("attachments"),
                ephemeral_for=None if in_channel else user,
            )

    # -- block actions --------------------------------------------------------------------

    def message_action(
        self,
        user: str,
        conversation: str,
        ts: str,
        block_id: str,
        action_id: str,
        value: Any,
    ) -> None:
        ws = self.workspace
        ws.remember_conversation(user, conversation)
        message = ws.message(conversation, ts)
        if message is None:
            return
        element = find_element(message.blocks, block_id, action_id)
        if element is None:
            return
        ephemeral = message.ephemeral_for is not None
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": conversation,
                "is_ephemeral": ephemeral,
            },
            "trigger_id": ws.new_trigger(user),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": self._channel(conversation),
            "message": message.as_payload(),
            "state": {"values": state_values(message.blocks, {block_id: {action_id: value}})},
            "response_url": ws.new_response_url(
                ResponseTarget(user=user, channel=conversation, message_ts=ts, ephemeral=ephemeral)
            ),
            "actions": [action_payload(element, block_id, value, f"{time.time():.6f}")],
        }
        self._check(user, self.link.payload(payload))

    def view_action(
        self,
        user: str,
        view_id: str,
        block_id: str,
        action_id: str,
        value: Any,
        values: Mapping[str, Mapping[str, Any]],
    ) -> None:
        ws = self.workspace
        found = ws.find_view(view_id)
        if found is None:
            return
        _owner, view = found
        element = find_element(view.get("blocks"), block_id, action_id)
        if element is None:
            return
        raw = {k: dict(v) for k, v in values.items()}
        raw.setdefault(block_id, {})[action_id] = value
        full = self._full_view(view, state_values(view.get("blocks"), raw))
        payload = {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "container": {"type": "view", "view_id": view_id},
            "trigger_id": ws.new_trigger(user),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": full,
            "actions": [action_payload(element, block_id, value, f"{time.time():.6f}")],
        }
        self._check(user, self.link.payload(payload))

    def _check(self, user: str, answer: BotAnswer) -> None:
        if answer.status != 200:
            self.workspace.note(user, f"Boten svarade inte som Slack väntar sig ({answer.status}).")

    # -- modals ---------------------------------------------------------------------------

    def submit(
        self, user: str, view_id: str, values: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, str]:
        """Submit the modal; returns field errors (block id → text), empty when accepted."""
        ws = self.workspace
        found = ws.find_view(view_id)
        if found is None:
            return {}
        _owner, view = found
        full = self._full_view(view, state_values(view.get("blocks"), values))
        answer = self.link.payload(
            {
                "type": "view_submission",
                "team": self._team(),
                "user": self._user(user),
                "api_app_id": APP_ID,
                "token": VERIFICATION_TOKEN,
                "trigger_id": ws.new_trigger(user),
                "view": full,
                "response_urls": [],
                "is_enterprise_install": False,
                "enterprise": None,
            }
        )
        if answer.status != 200:
            return {"": f"Boten svarade inte som Slack väntar sig ({answer.status})."}
        reply = answer.json() or {}
        action = reply.get("response_action") if isinstance(reply, dict) else None
        if action == "errors":
            errors = reply.get("errors") or {}
            return {str(k): str(v) for k, v in errors.items()}
        if action in ("update", "push"):
            new = reply.get("view") or {}
            problems = validate_view(new)
            if problems:
                ws.note(user, "Slack skulle ha vägrat vyn: " + "; ".join(problems))
                return {}
            if action == "update":
                stored = self._stored_view(new, view_id, previous=view.get("previous_view_id"))
                ws.update_view(view_id, stored)
            else:
                ws.push_modal(user, self._stored_view(new, ws.new_view_id(), previous=view_id))
            return {}
        if action == "clear":
            ws.clear_modals(user)
            return {}
        ws.close_view(user, view_id)
        return {}

    def close(self, user: str, view_id: str) -> None:
        ws = self.workspace
        found = ws.find_view(view_id)
        if found is None:
            return
        _owner, view = found
        ws.close_view(user, view_id)
        if view.get("notify_on_close"):
            answer = self.link.payload(
                {
                    "type": "view_closed",
                    "team": self._team(),
                    "user": self._user(user),
                    "api_app_id": APP_ID,
                    "token": VERIFICATION_TOKEN,
                    "view": self._full_view(view, {}),
                    "is_cleared": False,
                    "is_enterprise_install": False,
                    "enterprise": None,
                }
            )
            self._check(user, answer)

    @staticmethod
    def _stored_view(view: Mapping[str, Any], view_id: str, *, previous: Any) -> dict[str, Any]:
        return stored_view(
            view, view_id, view_hash=f"{int(time.time())}.{uuid.uuid4().hex[:8]}", previous=previous
        )

    # -- App Home -------------------------------------------------------------------------

    def open_home(self, user: str) -> None:
        self._check(
            user,
            self.link.event(
                {"type": "app_home_opened", "user": user, "channel": dm_of(user), "tab": "home"}
            ),
        )

    # -- the clock ------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        with self._lock:
            return dt.datetime.now(dt.UTC) + self._offset

    def set_clock(self, instant: dt.datetime) -> str | None:
        """Move the bot's test clock (signed with the secret the sandbox gave the bot, as
        the bot refuses unsigned moves); returns a problem in one line, or None."""
        answer = self.link.post(
            "/_test/clock",
            json.dumps({"now": instant.astimezone(dt.UTC).isoformat()}),
            "application/json",
        )
        reply = answer.json()
        if answer.status != 200 or not isinstance(reply, dict) or "now" not in reply:
            return f"Klockan gick inte att ställa ({answer.status}): {answer.body[:120]}"
        now = dt.datetime.fromisoformat(str(reply["now"]))
        with self._lock:
            self._offset = now - dt.datetime.now(dt.UTC)
        self.workspace.touch()
        return None

    def next_weekday(self, weekday: int, at: dt.time) -> dt.datetime:
        """The next ``weekday`` (0 = Monday) at ``at`` local time, strictly after now."""
        local = self.now().astimezone(self.zone)
        days = (weekday - local.weekday()) % 7
        candidate = dt.datetime.combine(local.date() + dt.timedelta(days=days), at, self.zone)
        if candidate <= local:
            candidate += dt.timedelta(days=7)
        return candidate

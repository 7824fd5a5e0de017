"""The sandbox's Slack workspace: people, channels, messages, modals and home tabs.

It is fed by the Web API stand-in (:meth:`Workspace.observe` listens to every call the bot
makes) and by the page (messages a person types, response URLs it hands out, triggers).
Everything is in memory and guarded by one lock; :meth:`Workspace.wait` lets the page
long-poll for changes.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.webapi import BOT_USER_ID, RESPONSE_URL_METHOD, Call

__all__ = ["Channel", "Message", "Person", "ResponseTarget", "Workspace"]


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    title: str
    agency: str
    locale: str = "sv-SE"


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    topic: str = ""


@dataclass
class Message:
    seq: int
    ts: str
    channel: str
    author: str
    """A person's id, or ``BOT_USER_ID`` for the bot, or ``""`` for the sandbox itself."""
    text: str = ""
    blocks: list[Any] | None = None
    attachments: list[Any] | None = None
    ephemeral_for: str | None = None
    thread_ts: str | None = None
    shown_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    error: bool = False
    """A message from the sandbox about something Slack would have refused."""
    files: list[Any] | None = None
    """Files shared with the message (``files.completeUploadExternal``), shown as cards."""

    def as_payload(self) -> dict[str, Any]:
        """The message as Slack puts it in a ``block_actions`` payload."""
        message: dict[str, Any] = {
            "type": "message",
            "user": self.author,
            "text": self.text,
            "ts": self.ts,
        }
        if self.author == BOT_USER_ID:
            message.update({"bot_id": "B0001", "app_id": "A0001"})
        if self.blocks is not None:
            message["blocks"] = self.blocks
        if self.attachments is not None:
            message["attachments"] = self.attachments
        if self.files is not None:
            message["files"] = self.files
        return message


@dataclass(frozen=True)
class ResponseTarget:
    """Where a message sent to a response URL shows up."""

    user: str
    channel: str
    message_ts: str | None = None
    ephemeral: bool = False


def dm_of(user_id: str) -> str:
    return f"D{user_id}"


class Workspace:
    def __init__(
        self,
        people: Sequence[Person],
        channels: Sequence[Channel],
        *,
        response_url_base: str = "",
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.people = {p.id: p for p in people}
        self.channels = {c.id: c for c in channels}
        self.response_url_base = response_url_base
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._cond = threading.Condition()
        self._version = 0
        self._seq = itertools.count(1)
        self._view_seq = itertools.count(1)
        self._messages: dict[str, list[Message]] = {}
        self._modals: dict[str, list[dict[str, Any]]] = {}
        self._homes: dict[str, dict[str, Any]] = {}
        self._triggers: dict[str, str] = {}
        self._responses: dict[str, ResponseTarget] = {}
        self._last_conversation: dict[str, str] = {}
        self._seen: dict[tuple[str, str], int] = {}
        self.status = "starting"
        """What the sandbox is doing (``starting``, ``seeding``, ``ready`` or an error)."""
        self.file_source: Callable[[str], bytes | None] = lambda _file_id: None
        """The bytes of an uploaded file (the Web API stand-in keeps them)."""

    # -- change notification --------------------------------------------------------------

    @property
    def version(self) -> int:
        with self._cond:
            return self._version

    def _changed(self) -> None:
        # Callers hold the lock.
        self._version += 1
        self._cond.notify_all()

    def touch(self) -> None:
        with self._cond:
            self._changed()

    def set_status(self, status: str) -> None:
        with self._cond:
            self.status = status
            self._changed()

    def wait(self, since: int, timeout: float) -> int:
        """Block until the version is past ``since`` (or ``timeout``); return the version."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._version <= since:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return self._version

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    # -- ids handed to the bot ------------------------------------------------------------

    def new_trigger(self, user: str) -> str:
        trigger = f"{int(time.time())}.{next(self._seq)}.{secrets.token_hex(8)}"
        with self._cond:
            self._triggers[trigger] = user
        return trigger

    def new_response_url(self, target: ResponseTarget) -> str:
        token = f"{target.user}/{secrets.token_hex(8)}"
        with self._cond:
            self._responses[token] = target
        return f"{self.response_url_base}{token}"

    def new_view_id(self) -> str:
        return f"VS{next(self._view_seq):04d}"

    def remember_conversation(self, user: str, conversation: str) -> None:
        with self._cond:
            self._last_conversation[user] = conversation

    # -- reading --------------------------------------------------------------------------

    def conversations_for(self, user: str) -> list[str]:
        return [*self.channels, dm_of(user)]

    def messages(self, user: str, conversation: str) -> list[Message]:
        """What ``user`` sees in ``conversation``: its messages and their own ephemerals."""
        with self._cond:
            found = [
                copy.copy(m)
                for m in self._messages.get(conversation, [])
                if m.ephemeral_for in (None, user)
            ]
            if found:
                self._seen[(user, conversation)] = max(m.seq for m in found)
        return found

    def message(self, conversation: str, ts: str) -> Message | None:
        with self._cond:
            for m in self._messages.get(conversation, []):
                if m.ts == ts:
                    return copy.copy(m)
        return None

    def unread(self, user: str, conversation: str) -> bool:
        with self._cond:
            seen = self._seen.get((user, conversation), 0)
            return any(
                m.seq > seen and m.ephemeral_for in (None, user)
                for m in self._messages.get(conversation, [])
            )

    def modal_stack(self, user: str) -> list[dict[str, Any]]:
        with self._cond:
            return copy.deepcopy(self._modals.get(user, []))

    def top_modal(self, user: str) -> dict[str, Any] | None:
        with self._cond:
            stack = self._modals.get(user) or []
            return copy.deepcopy(stack[-1]) if stack else None

    def home(self, user: str) -> dict[str, Any] | None:
        with self._cond:
            view = self._homes.get(user)
            return copy.deepcopy(view) if view else None

    def find_view(self, view_id: str) -> tuple[str, dict[str, Any]] | None:
        """(user, view) for a modal or home tab by id."""
        with self._cond:
            for user, stack in self._modals.items():
                for view in stack:
                    if view.get("id") == view_id:
                        return user, copy.deepcopy(view)
            for user, view in self._homes.items():
                if view.get("id") == view_id:
                    return user, copy.deepcopy(view)
        return None

    # -- writing --------------------------------------------------------------------------

    def _ts(self, seq: int) -> str:
        return f"{int(time.time())}.{900000 + seq % 100000:06d}"

    def post(
        self,
        channel: str,
        *,
        author: str,
        text: str = "",
        blocks: list[Any] | None = None,
        attachments: list[Any] | None = None,
        ephemeral_for: str | None = None,
        ts: str | None = None,
        thread_ts: str | None = None,
        error: bool = False,
        files: list[Any] | None = None,
    ) -> Message:
        with self._cond:
            seq = next(self._seq)
            message = Message(
                seq=seq,
                ts=ts or self._ts(seq),
                channel=channel,
                author=author,
                text=text,
                blocks=blocks,
                attachments=attachments,
                ephemeral_for=ephemeral_for,
                thread_ts=thread_ts,
                shown_at=self.clock(),
                error=error,
                files=files,
            )
            self._messages.setdefault(channel, []).append(message)
            self._changed()
        return message

    def note(self, user: str, text: str, *, conversation: str | None = None) -> None:
        """A line from the sandbox itself, only for ``user``, where they last were."""
        with self._cond:
            target = conversation or self._last_conversation.get(user) or dm_of(user)
        self.post(target, author="", text=text, ephemeral_for=user, error=True)

    def replace(self, channel: str, ts: str, **fields: Any) -> bool:
        with self._cond:
            for m in self._messages.get(channel, []):
                if m.ts == ts:
                    for key, value in fields.items():
                        setattr(m, key, value)
                    self._changed()
                    return True
        return False

    def delete(self, channel: str, ts: str) -> None:
        with self._cond:
            kept = [m for m in self._messages.get(channel, []) if m.ts != ts]
            self._messages[channel] = kept
            self._changed()

    def open_modal(self, user: str, view: dict[str, Any]) -> None:
        with self._cond:
            self._modals[user] = [view]
            self._changed()

    def push_modal(self, user: str, view: dict[str, Any]) -> None:
        with self._cond:
            self._modals.setdefault(user, []).append(view)
            self._changed()

    def update_view(self, view_id: str, view: dict[str, Any]) -> bool:
        with self._cond:
            for stack in self._modals.values():
                for i, current in enumerate(stack):
                    if current.get("id") == view_id:
                        # An update keeps the view's place in the stack, and what is beneath.
                        if current.get("previous_view_id") and not view.get("previous_view_id"):
                            view = {**view, "previous_view_id": current["previous_view_id"]}
                        stack[i] = view
                        self._changed()
                        return True
            for user, current in self._homes.items():
                if current.get("id") == view_id:
                    self._homes[user] = view
                    self._changed()
                    return True
        return False

    def close_view(self, user: str, view_id: str) -> None:
        """Close one view; the views under it stay (Slack's close on a pushed view)."""
        with self._cond:
            stack = self._modals.get(user, [])
            self._modals[user] = [v for v in stack if v.get("id") != view_id]
            self._changed()

    def clear_modals(self, user: str) -> None:
        with self._cond:
            self._modals[user] = []
            self._changed()

    def publish_home(self, user: str, view: dict[str, Any]) -> None:
        with self._cond:
            self._homes[user] = view
            self._changed()

    # -- the bot's Web API calls -------------------------------------------------------------

    def observe(self, call: Call) -> None:
        """Listener for :meth:`sandbox.webapi.SlackWebApiStub.add_listener`."""
        method, args = call.method, call.args
        if call.rejected:
            self._refused(call)
            return
        if not call.ok:
            return
        if method == "chat.postMessage":
            channel = str(call.response.get("channel") or args.get("channel"))
            self.post(
                channel,
                author=BOT_USER_ID,
                text=str(args.get("text") or ""),
                blocks=args.get("blocks"),
                attachments=args.get("attachments"),
                ts=str(call.response.get("ts")),
                thread_ts=args.get("thread_ts"),
            )
        elif method == "files.completeUploadExternal":
            # A shared file shows in its channel or DM as Slack shows it: a card.
            channel = str(args.get("channel_id") or args.get("channels") or "").split(",")[0]
            if channel[:1] in ("U", "W"):
                channel = dm_of(channel)
            files = call.response.get("files")
            if channel and isinstance(files, list):
                self.post(
                    channel,
                    author=BOT_USER_ID,
                    text=str(args.get("initial_comment") or ""),
                    thread_ts=args.get("thread_ts"),
                    files=[
                        {k: f.get(k) for k in ("id", "name", "title", "size")}
                        for f in files
                        if isinstance(f, dict)
                    ],
                )
        elif method == "chat.postEphemeral":
            channel = str(args.get("channel"))
            user = str(args.get("user"))
            if channel[:1] in ("U", "W", "D"):
                channel = dm_of(user)
            self.post(
                channel,
                author=BOT_USER_ID,
                text=str(args.get("text") or ""),
                blocks=args.get("blocks"),
                attachments=args.get("attachments"),
                ephemeral_for=user,
                ts=str(call.response.get("message_ts") or "") or None,
            )
        elif method == "chat.update":
            fields: dict[str, Any] = {"text": str(args.get("text") or "")}
            if "blocks" in args:
                fields["blocks"] = args.get("blocks")
            if "attachments" in args:
                fields["attachments"] = args.get("attachments")
            self.replace(str(args.get("channel")), str(args.get("ts")), **fields)
        elif method == "chat.delete":
            self.delete(str(args.get("channel")), str(args.get("ts")))
        elif method in ("views.open", "views.push"):
            with self._cond:
                opener = self._triggers.get(str(args.get("trigger_id") or ""))
            view = call.response.get("view")
            if opener and isinstance(view, dict):
                if method == "views.open":
                    self.open_modal(opener, view)
                else:
                    # As Slack does: a pushed view names the one beneath it, so the bot can
                    # refresh that one (a case's modal lists the action just made from it).
                    beneath = self.top_modal(opener)
                    if beneath is not None and beneath.get("id"):
                        view = {**view, "previous_view_id": beneath["id"]}
                    self.push_modal(opener, view)
        elif method == "views.update":
            view = call.response.get("view")
            if isinstance(view, dict):
                self.update_view(str(view.get("id")), view)
        elif method == "views.publish":
            view = call.response.get("view")
            if isinstance(view, dict):
                self.publish_home(str(args.get("user_id")), view)
        elif method == RESPONSE_URL_METHOD:
            self._respond(args)

    def _respond(self, args: dict[str, Any]) -> None:
        token = str(args.get("_path", "")).removeprefix("/response/")
        with self._cond:
            target = self._responses.get(token)
        if target is None:
            return
        if args.get("delete_original") and target.message_ts:
            self.delete(target.channel, target.message_ts)
            return
        replace = args.get("replace_original")
        in_channel = args.get("response_type") == "in_channel"
        if target.message_ts and (replace is True or (replace is None and target.ephemeral)):
            fields = {"text": str(args.get("text") or ""), "blocks": args.get("blocks")}
            if self.replace(target.channel, target.message_ts, **fields):
                return
        self.post(
            target.channel,
            author=BOT_USER_ID,
            text=str(args.get("text") or ""),
            blocks=args.get("blocks"),
            attachments=args.get("attachments"),
            ephemeral_for=None if in_channel else target.user,
        )

    def _refused(self, call: Call) -> None:
        detail = "; ".join(call.errors) or call.error or "refused"
        text = f"Slack skulle ha vägrat `{call.method}`: {detail}"
        args = call.args
        if call.method in ("views.open", "views.push"):
            with self._cond:
                user = self._triggers.get(str(args.get("trigger_id") or ""))
            if user:
                self.note(user, text)
        elif call.method == "views.publish" and args.get("user_id"):
            self.note(str(args["user_id"]), text)
        elif call.method.startswith("chat.") and args.get("channel"):
            channel = str(args["channel"])
            if channel[:1] in ("U", "W"):
                channel = dm_of(channel)
            self.post(channel, author="", text=text, error=True)
        elif call.method == RESPONSE_URL_METHOD:
            token = str(args.get("_path", "")).removeprefix("/response/")
            with self._cond:
                target = self._responses.get(token)
            if target:
                self.note(target.user, text, conversation=target.channel)

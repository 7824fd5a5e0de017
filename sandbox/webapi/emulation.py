"""Slack's Web API emulated: each method answered as Slack would (checked with the
validator), from an in-memory workspace."""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from sandbox.webapi.calls import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    DEFAULT_LOCALE,
    DEFAULT_TZ,
    INSTALLER_USER_ID,
    NO_AUTH_METHODS,
    RESPONSE_URL_METHOD,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    UPLOAD_METHOD,
    Call,
)
from sandbox.webapi.shapes import stored_view, truthy, tz_offset
from sandbox.webapi.validator import MAX_MESSAGE_TEXT, validate_message, validate_view

HISTORY_KEPT = 1000  # messages kept per channel for conversations.history


_Handler = Callable[[dict[str, Any], str | None], dict[str, Any]]


class SlackEmulation:
    """The Web API methods, answered from an in-memory workspace (users, channels, members,
    views, files, history). Thread-safe under ``_cond``; :class:`SlackWebApiStub` adds the
    HTTP server, the recording of calls and the faults."""

    def __init__(self, *, require_include_locale: bool, strict_triggers: bool) -> None:
        self.require_include_locale = require_include_locale
        self.strict_triggers = strict_triggers
        self._cond = threading.Condition()
        self._users: dict[str, dict[str, Any]] = {}
        # users.info's error for a user it will not tell about (``refuse_user``).
        self._refused_users: dict[str, str] = {}
        # chat.postMessage's error for a DM to a user whose account is gone (``refuse_dm``).
        self._refused_dms: dict[str, str] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._members: dict[str, list[str]] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._home_view_ids: dict[str, str] = {}
        self._external_view_ids: dict[str, str] = {}
        self._used_triggers: set[str] = set()
        self._files: dict[str, dict[str, Any]] = {}
        self._uploads: dict[str, bytes] = {}
        # What the bot posted, per channel (DMs under the IM's id), for conversations.history.
        self._history: dict[str, deque[dict[str, Any]]] = {}
        self.socket_mode_url: str | None = None
        self._counters: dict[str, itertools.count[int]] = {}
        self._handlers: dict[str, _Handler] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.scheduleMessage": self._chat_schedule_message,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "team.info": self._team_info,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "oauth.v2.access": self._oauth_v2_access,
            "apps.connections.open": self._apps_connections_open,
        }

    @property
    def root_url(self) -> str:
        """Where this stand-in is served (upload URLs point there)."""
        raise NotImplementedError

    def _forget(self) -> None:
        """Forget the configured users/channels/views, files, history and counters (under
        ``_cond``)."""
        self._users.clear()
        self._refused_users.clear()
        self._refused_dms.clear()
        self._channels.clear()
        self._members.clear()
        self._views.clear()
        self._home_view_ids.clear()
        self._external_view_ids.clear()
        self._used_triggers.clear()
        self._files.clear()
        self._uploads.clear()
        self._history.clear()
        self._counters.clear()

    def _next(self, kind: str) -> int:
        with self._cond:
            return next(self._counters.setdefault(kind, itertools.count(1)))

    def _ts(self) -> str:
        return f"{int(time.time())}.{self._next('ts') % 1_000_000:06d}"

    def _check_auth(self, method: str, token: str | None) -> dict[str, Any] | None:
        if method in NO_AUTH_METHODS:
            return None
        if not token:
            return {"ok": False, "error": "not_authed"}
        if not token.startswith(("xox", "xapp-")):
            return {"ok": False, "error": "invalid_auth"}
        return None

    def _dispatch(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        handler = self._handlers.get(method)
        if handler is None:
            return {"ok": True}
        return handler(args, token)

    # -- helpers for handlers -------------------------------------------------------------------

    @staticmethod
    def _invalid(error: str, errors: list[str]) -> dict[str, Any]:
        return {
            "ok": False,
            "error": error,
            "errors": errors,
            "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
        }

    @staticmethod
    def _api_error(error: str) -> dict[str, Any]:
        # Not a contract violation (e.g. trigger reuse is), just an ordinary API answer.
        return {"ok": False, "error": error, "_api_error": True}

    def _check_message(
        self, args: dict[str, Any], *, require_content: bool
    ) -> dict[str, Any] | None:
        missing = []
        if not args.get("channel"):
            missing.append("missing required field: channel [json-pointer:/channel]")
        if require_content and not (
            args.get("text") or args.get("blocks") or args.get("attachments")
        ):
            missing.append("must provide text, blocks or attachments [json-pointer:/text]")
        if missing:
            return self._invalid("invalid_arguments", missing)
        text = args.get("text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            return self._invalid(
                "msg_too_long",
                [f"must be less than {MAX_MESSAGE_TEXT + 1} characters [json-pointer:/text]"],
            )
        errors = validate_message(args)
        if errors:
            return self._invalid("invalid_blocks", errors)
        return None

    @staticmethod
    def _dm_channel(channel: str) -> str:
        return f"D{channel}" if channel[:1] in ("U", "W") else channel

    def _message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": args.get("text") or "",
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if args.get(key) is not None:
                message[key] = args[key]
        return message

    # -- handlers -------------------------------------------------------------------------------

    def _api_test(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"ok": True, "args": {k: v for k, v in args.items() if isinstance(v, str)}}

    def _auth_test(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        answer = {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": "samverkan",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }
        if token is not None and token.startswith("xoxp-"):
            # A user's token (an installer's) names that user, not the bot.
            answer.update(user="installer", user_id=INSTALLER_USER_ID)
            del answer["bot_id"]
        return answer

    def _chat_post_message(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        invalid = self._check_message(args, require_content=True)
        if invalid:
            return invalid
        with self._cond:
            refused = self._refused_dms.get(str(args["channel"]).removeprefix("D"))
        if refused is not None:  # a DM to a deactivated or deleted account
            return self._api_error(refused)
        ts = self._ts()
        channel = self._dm_channel(str(args["channel"]))
        message = self._message(args, ts)
        with self._cond:
            self._history.setdefault(channel, deque(maxlen=HISTORY_KEPT)).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _conversations_history(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        """The channel's messages newest first (only those the bot posted here), after
        ``oldest``, at most ``limit``; metadata only with ``include_all_metadata``, as Slack."""
        channel = str(args.get("channel") or "")
        if not channel:
            return self._invalid(
                "invalid_arguments", ["missing required field: channel [json-pointer:/channel]"]
            )
        oldest = float(args.get("oldest") or 0)
        limit = int(args.get("limit") or 100)
        metadata = truthy(args.get("include_all_metadata"))
        with self._cond:
            kept = list(self._history.get(channel, ()))
        found = [m for m in reversed(kept) if float(m["ts"]) > oldest][:limit]
        if not metadata:
            found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
        return {"ok": True, "messages": found, "has_more": False, "pin_count": 0}

    def _chat_post_ephemeral(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        invalid = self._check_message(args, require_content=True)
        if invalid:
            return invalid
        if not args.get("user"):
            return self._invalid(
                "invalid_arguments", ["missing required field: user [json-pointer:/user]"]
            )
        return {"ok": True, "message_ts": self._ts()}

    def _chat_update(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        invalid = self._check_message(args, require_content=False)
        if invalid:
            return invalid
        if str(args.get("channel", ""))[:1] in ("U", "W"):
            # Unlike chat.postMessage, chat.update wants a DM's channel id (D…), not a user.
            return self._api_error("channel_not_found")
        ts = args.get("ts")
        if not ts:
            return self._invalid(
                "invalid_arguments", ["missing required field: ts [json-pointer:/ts]"]
            )
        return {
            "ok": True,
            "channel": args["channel"],
            "ts": ts,
            "text": args.get("text") or "",
            "message": self._message(args, str(ts)),
        }

    def _chat_delete(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not args.get("channel") or not args.get("ts"):
            return self._invalid("invalid_arguments", ["missing required field: channel, ts"])
        return {"ok": True, "channel": args["channel"], "ts": args["ts"]}

    def _chat_schedule_message(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        invalid = self._check_message(args, require_content=True)
        if invalid:
            return invalid
        post_at = args.get("post_at")
        return {
            "ok": True,
            "channel": args["channel"],
            "scheduled_message_id": f"Q{self._next('scheduled'):04d}",
            "post_at": post_at,
            "message": self._message(args, self._ts()),
        }

    def _chat_get_permalink(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        ts = str(args.get("message_ts", "")).replace(".", "")
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts}",
        }

    def _store_view(
        self, view: dict[str, Any], view_id: str, *, user_id: str | None = None
    ) -> dict[str, Any]:
        stored = stored_view(
            view, view_id, view_hash=f"{int(time.time())}.{self._next('hash'):08x}"
        )
        with self._cond:
            self._views[view_id] = stored
            if user_id is not None:
                self._home_view_ids[user_id] = view_id
            external_id = view.get("external_id")
            if external_id:
                self._external_view_ids[str(external_id)] = view_id
        return stored

    def _check_view(self, args: dict[str, Any]) -> dict[str, Any] | None:
        errors = validate_view(args.get("view"))
        if errors:
            return self._invalid("invalid_arguments", errors)
        return None

    def _views_open(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trigger:
            return self._invalid(
                "invalid_arguments",
                ["missing required field: trigger_id [json-pointer:/trigger_id]"],
            )
        invalid = self._check_view(args)
        if invalid:
            return invalid
        if self.strict_triggers:
            with self._cond:
                if trigger in self._used_triggers:
                    return self._invalid(
                        "trigger_exchanged",
                        [f"trigger_id {trigger} was already used to open a view"],
                    )
                self._used_triggers.add(str(trigger))
        view = self._store_view(args["view"], f"V{self._next('view'):04d}")
        return {"ok": True, "view": view}

    def _views_update(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        invalid = self._check_view(args)
        if invalid:
            return invalid
        view_id = args.get("view_id")
        external_id = args.get("external_id")
        if not view_id and external_id:
            with self._cond:
                view_id = self._external_view_ids.get(str(external_id))
            if view_id is None:
                return self._api_error("not_found")
        if not view_id:
            return self._invalid(
                "invalid_arguments", ["must provide either view_id or external_id"]
            )
        return {"ok": True, "view": self._store_view(args["view"], str(view_id))}

    def _views_publish(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        user_id = args.get("user_id")
        if not user_id:
            return self._invalid(
                "invalid_arguments", ["missing required field: user_id [json-pointer:/user_id]"]
            )
        invalid = self._check_view(args)
        if invalid:
            return invalid
        view = args["view"]
        if view.get("type") != "home":
            return self._invalid("invalid_arguments", ['must be "home" [json-pointer:/view/type]'])
        with self._cond:
            view_id = self._home_view_ids.get(str(user_id))
        view_id = view_id or f"V{self._next('view'):04d}"
        return {"ok": True, "view": self._store_view(view, view_id, user_id=str(user_id))}

    def _user(self, user_id: str, *, include_locale: bool) -> dict[str, Any]:
        with self._cond:
            conf = dict(self._users.get(user_id, {}))
        is_bot = bool(conf.pop("is_bot", user_id == BOT_USER_ID))
        name = str(conf.pop("name", "samverkan" if is_bot else f"user.{user_id.lower()}"))
        real_name = str(conf.pop("real_name", "Samverkan" if is_bot else f"Test {user_id}"))
        tz = str(conf.pop("tz", DEFAULT_TZ))
        email = conf.pop("email", None if is_bot else f"{user_id.lower()}@example.org")
        locale = conf.pop("locale", DEFAULT_LOCALE)
        profile: dict[str, Any] = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": name,
            "display_name_normalized": name,
            "team": TEAM_ID,
        }
        if email:
            profile["email"] = email
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "deleted": bool(conf.pop("deleted", False)),
            "real_name": real_name,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": tz_offset(tz),
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
        }
        if is_bot:
            profile["bot_id"] = BOT_ID
        if include_locale or not self.require_include_locale:
            user["locale"] = locale
        user.update(conf)
        return user

    def _users_info(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        user_id = args.get("user")
        if not user_id:
            return self._invalid(
                "invalid_arguments", ["missing required field: user [json-pointer:/user]"]
            )
        if str(user_id)[:1] not in ("U", "W"):
            return self._api_error("user_not_found")
        with self._cond:
            refused = self._refused_users.get(str(user_id))
        if refused is not None:
            return self._api_error(refused)
        include_locale = truthy(args.get("include_locale", False))
        return {"ok": True, "user": self._user(str(user_id), include_locale=include_locale)}

    def _users_list(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        with self._cond:
            ids = sorted(set(self._users) | {BOT_USER_ID})
        include_locale = truthy(args.get("include_locale", False))
        return {
            "ok": True,
            "members": [self._user(u, include_locale=include_locale) for u in ids],
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_info(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return self._api_error("channel_not_found")
        channel = str(channel)
        with self._cond:
            overrides = dict(self._channels.get(channel, {}))
            members = self._members.get(channel)
        is_im = channel.startswith("D")
        info: dict[str, Any] = {
            "id": channel,
            "created": 1_700_000_000,
            "creator": "U0001",
            "is_archived": False,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "context_team_id": TEAM_ID,
            "is_member": True,
        }
        if is_im:
            info.update({"is_im": True, "user": channel[1:], "is_open": True})
        else:
            info.update(
                {
                    "name": f"kanal-{channel.lower()}",
                    "name_normalized": f"kanal-{channel.lower()}",
                    "is_channel": not channel.startswith("G"),
                    "is_group": False,
                    "is_im": False,
                    "is_mpim": False,
                    "is_private": channel.startswith("G"),
                    "topic": {"value": "", "creator": "", "last_set": 0},
                    "purpose": {"value": "", "creator": "", "last_set": 0},
                }
            )
            if members is not None:
                info["num_members"] = len(members)
        info.update(overrides)
        return {"ok": True, "channel": info}

    def _conversations_members(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return self._api_error("channel_not_found")
        with self._cond:
            members = list(self._members.get(str(channel), []))
        try:
            start = int(args.get("cursor") or 0)
            limit = int(args.get("limit") or 100) or 100
        except (TypeError, ValueError):
            return self._api_error("invalid_cursor")
        page = members[start : start + limit]
        next_cursor = str(start + limit) if start + limit < len(members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_open(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        users_arg = args.get("users")
        if isinstance(users_arg, list):
            users = [str(u) for u in users_arg]
        else:
            users = [u.strip() for u in str(users_arg or "").split(",") if u.strip()]
        if args.get("channel"):
            return {"ok": True, "channel": {"id": args["channel"]}}
        if not users:
            return self._invalid(
                "invalid_arguments", ["must provide either users or channel [json-pointer:/users]"]
            )
        channel_id = f"D{users[0]}" if len(users) == 1 else "G" + "".join(sorted(users))
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": channel_id}}

    def _apps_connections_open(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        """Socket Mode: hand out the WebSocket URL a test server listens on."""
        if not (token or "").startswith("xapp-"):
            return self._api_error("invalid_auth")
        if self.socket_mode_url is None:
            return self._api_error("socket_mode_unavailable")
        return {"ok": True, "url": self.socket_mode_url}

    def _team_info(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {
            "ok": True,
            "team": {
                "id": TEAM_ID,
                "name": TEAM_NAME,
                "domain": TEAM_DOMAIN,
                "email_domain": "example.org",
                "url": f"https://{TEAM_DOMAIN}.slack.com/",
                "icon": {"image_default": True},
                "enterprise_id": None,
            },
        }

    def _files_get_upload_url(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not args.get("filename") or args.get("length") in (None, ""):
            return self._invalid("invalid_arguments", ["missing required field: filename, length"])
        file_id = f"F{self._next('file'):04d}"
        with self._cond:
            self._files[file_id] = {
                "filename": str(args["filename"]),
                "length": int(args["length"]),
            }
        return {"ok": True, "upload_url": f"{self.root_url}upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return self._invalid("invalid_arguments", ["missing required field: files"])
        result = []
        for item in files:
            file_id = str(item.get("id")) if isinstance(item, dict) else ""
            with self._cond:
                meta = self._files.get(file_id)
                data = self._uploads.get(file_id)
            if meta is None:
                return self._api_error("file_not_found")
            if data is None:
                return self._api_error("file_upload_not_found")
            result.append(
                {
                    "id": file_id,
                    "name": meta["filename"],
                    "title": item.get("title") or meta["filename"],
                    "size": len(data),
                    "user": BOT_USER_ID,
                    "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{file_id}",
                }
            )
        return {"ok": True, "files": result}

    def _oauth_v2_access(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not args.get("client_id") or not (args.get("code") or args.get("refresh_token")):
            return self._api_error("invalid_code")
        return {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": "U0001"},
            "scope": "commands,chat:write,users:read,im:write,channels:read,groups:read",
            "token_type": "bot",
            "access_token": f"xoxb-{TEAM_ID}-stub-{self._next('token'):04d}",
            "bot_user_id": BOT_USER_ID,
            "team": {"id": TEAM_ID, "name": TEAM_NAME},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    # -- non-API endpoints ----------------------------------------------------------------------

    def handle_upload(self, file_id: str, data: bytes, at: float) -> tuple[int, str, Call]:
        call = Call(
            method=UPLOAD_METHOD, args={"file_id": file_id, "size": len(data)}, token=None, at=at
        )
        with self._cond:
            known = file_id in self._files
            if known:
                self._uploads[file_id] = data
        if not known:
            call.status, call.error = 404, "file_not_found"
            return 404, "file_not_found", call
        return 200, f"OK - {len(data)}", call

    def handle_response_url(
        self, path: str, args: dict[str, Any], at: float
    ) -> tuple[int, str, Call]:
        call = Call(method=RESPONSE_URL_METHOD, args={**args, "_path": path}, token=None, at=at)
        has_content = any(args.get(k) for k in ("text", "blocks", "attachments"))
        if not has_content and not args.get("delete_original"):
            call.status, call.error, call.rejected = 400, "no_text", True
            return 400, "no_text", call
        errors = validate_message(args)
        if errors:
            call.status, call.error, call.errors, call.rejected = (
                400,
                "invalid_blocks",
                errors,
                True,
            )
            return 400, "invalid_blocks", call
        return 200, "ok", call

"""The sandbox's Slack-like web page (Starlette): channels, DMs, messages, modals, App Home.

Routes:

* ``GET /`` the page; ``GET /static/…`` its script and style sheet.
* ``GET /ui/state`` what one person sees (long-polls with ``since``).
* ``POST /ui/command``, ``/ui/action``, ``/ui/submit``, ``/ui/close``, ``/ui/home``,
  ``/ui/clock``: what the person did, sent on to the bot as Slack would (the clock jumps to
  the demo forums' next agenda, round opening or deadline come from ``demo_calendar``).
* ``POST /slack/events`` forwarded to the bot, so the bot answers on the page's port too.
* ``GET /healthz`` 200 once the demo forums are ready.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sandbox import demo_calendar
from sandbox.blockkit_html import RenderContext, esc, mrkdwn, plain, render_message, render_view
from sandbox.surface import Surface
from sandbox.webapi import BOT_USER_ID
from sandbox.workspace import Message, dm_of

__all__ = ["HOME", "build_page", "clock_label"]

STATIC = Path(__file__).resolve().parent / "static"
HOME = "home"
"""The conversation id the page uses for the App Home tab."""
POLL_SECONDS = 20.0
WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)


def clock_label(instant: dt.datetime) -> str:
    """``torsdag 3 december 2026 08:00``."""
    return (
        f"{WEEKDAYS[instant.weekday()]} {instant.day} {MONTHS[instant.month - 1]} "
        f"{instant.year} {instant:%H:%M}"
    )


def short_label(instant: dt.datetime) -> str:
    """``fre 27 nov 08:00``."""
    return (
        f"{WEEKDAYS[instant.weekday()][:3]} {instant.day} {MONTHS[instant.month - 1][:3]} "
        f"{instant:%H:%M}"
    )


def _values(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The page's raw ``{block_id: {action_id: value}}``, whatever was sent."""
    raw = body.get("values")
    if not isinstance(raw, dict):
        return {}
    return {str(k): dict(v) for k, v in raw.items() if isinstance(v, dict)}


def _initials(name: str) -> str:
    return "".join(part[0] for part in name.split()[:2]).upper() or "?"


class Page:
    def __init__(self, surface: Surface) -> None:
        self.surface = surface
        self.ws = surface.workspace

    # -- rendering ------------------------------------------------------------------------

    def context(self, surface: str) -> RenderContext:
        people = {p.id: p.name for p in self.ws.people.values()}
        return RenderContext(
            users=people | {BOT_USER_ID: "Samverkan"},
            channels={c.id: c.name for c in self.ws.channels.values()},
            surface=surface,
            people=people,
        )

    def message_html(self, message: Message, ctx: RenderContext) -> str:
        zone = self.surface.zone
        if message.author == BOT_USER_ID:
            name, badge, initials = "Samverkan", '<span class="badge">APP</span>', "S"
        elif message.author:
            person = self.ws.people.get(message.author)
            name = person.name if person else message.author
            badge, initials = "", _initials(name)
        else:
            name, badge, initials = "Sandlådan", "", "!"
        classes = ["msg"]
        if message.ephemeral_for:
            classes.append("ephemeral")
        if message.error:
            classes.append("error")
        if message.thread_ts:
            classes.append("thread")
        only_you = (
            '<span class="only-you">Bara du ser det här</span>' if message.ephemeral_for else ""
        )
        if message.author and message.author != BOT_USER_ID and message.text.startswith("/"):
            body = f'<div class="command"><code>{esc(message.text)}</code></div>'
        elif message.author == BOT_USER_ID:
            body = render_message(
                {
                    "text": message.text,
                    "blocks": message.blocks,
                    "attachments": message.attachments,
                    "files": message.files,
                },
                ctx,
            )
        else:
            body = f'<div class="bk-text">{mrkdwn(message.text, ctx)}</div>'
        when = message.shown_at.astimezone(zone)
        return (
            f'<div class="{" ".join(classes)}" data-ts="{esc(message.ts)}" '
            f'data-conv="{esc(message.channel)}">'
            f'<div class="avatar">{esc(initials)}</div><div class="msg-body">'
            f'<div class="msg-head"><b>{esc(name)}</b>{badge}'
            f'<time title="{esc(clock_label(when))}">{when:%H:%M}</time>{only_you}</div>'
            f'<div class="msg-content">{body}</div></div></div>'
        )

    def demo_times(self) -> dict[str, dt.datetime | None]:
        """Where the clock buttons for the demo forums jump to (``sandbox.demo_calendar``)."""
        now, zone = self.surface.now(), self.surface.zone
        cal = demo_calendar
        return {
            "agenda": cal.agenda_after(cal.FOSSAM, now, zone),
            "round": cal.round_opens_after(cal.OSF, now, zone),
            "deadline": cal.deadline_after(cal.OSF, now, zone),
            "osf-agenda": cal.agenda_after(cal.OSF, now, zone),
            "review": cal.review_after(now, zone),
        }

    def conversations(self, user: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for channel in self.ws.channels.values():
            rows.append(
                {
                    "id": channel.id,
                    "name": f"# {channel.name}",
                    "topic": channel.topic,
                    "kind": "channel",
                    "unread": self.ws.unread(user, channel.id),
                }
            )
        rows.append(
            {
                "id": dm_of(user),
                "name": "Samverkan",
                "topic": "Direktmeddelanden från boten till dig",
                "kind": "dm",
                "unread": self.ws.unread(user, dm_of(user)),
            }
        )
        return rows

    def state(self, user: str, conversation: str, since: int, wait: bool) -> dict[str, Any]:
        version = self.ws.wait(since, POLL_SECONDS) if wait else self.ws.version
        if user not in self.ws.people:
            user = next(iter(self.ws.people))
        result: dict[str, Any] = {
            "version": version,
            "status": self.ws.status,
            "user": user,
            "people": [
                {"id": p.id, "name": p.name, "title": p.title, "agency": p.agency}
                for p in self.ws.people.values()
            ],
            "clock": clock_label(self.surface.now().astimezone(self.surface.zone)),
            "jumps": {
                name: short_label(at.astimezone(self.surface.zone)) if at else ""
                for name, at in self.demo_times().items()
            },
        }
        if conversation == HOME:
            home = self.ws.home(user)
            result["home"] = (
                {
                    "id": home["id"],
                    "hash": home.get("hash"),
                    "html": render_view(home, self.context("home")),
                }
                if home
                else None
            )
        else:
            if conversation not in self.ws.conversations_for(user):
                conversation = next(iter(self.ws.channels))
            ctx = self.context("message")
            result["messages"] = "".join(
                self.message_html(m, ctx) for m in self.ws.messages(user, conversation)
            )
        result["conversation"] = conversation
        result["conversations"] = self.conversations(user)
        modal = self.ws.top_modal(user)
        if modal is not None:
            result["modal"] = {
                "id": modal.get("id"),
                "hash": modal.get("hash"),
                "title": plain((modal.get("title") or {}).get("text", "")),
                "submit": plain((modal.get("submit") or {}).get("text", ""))
                if modal.get("submit")
                else None,
                "close": plain((modal.get("close") or {}).get("text", "Stäng")),
                "depth": len(self.ws.modal_stack(user)),
                "html": render_view(modal, self.context("modal")),
            }
        else:
            result["modal"] = None
        return result

    # -- routes ---------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    async def get_state(self, request: Request) -> Response:
        q = request.query_params
        try:
            since = int(q.get("since", "-1"))
        except ValueError:
            since = -1
        result = await run_in_threadpool(
            self.state, q.get("user", ""), q.get("conv", ""), since, since >= 0
        )
        return JSONResponse(result)

    async def _body(self, request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {}
        return body if isinstance(body, dict) else {}

    def _user(self, body: dict[str, Any]) -> str | None:
        user = str(body.get("user", ""))
        return user if user in self.ws.people else None

    async def command(self, request: Request) -> Response:
        body = await self._body(request)
        user = self._user(body)
        if user is None:
            return JSONResponse({"error": "unknown user"}, status_code=400)
        conv = str(body.get("conv", ""))
        if conv not in self.ws.conversations_for(user):
            return JSONResponse({"error": "unknown conversation"}, status_code=400)
        await run_in_threadpool(self.surface.command, user, conv, str(body.get("text", ""))[:4000])
        return JSONResponse({"ok": True})

    async def action(self, request: Request) -> Response:
        body = await self._body(request)
        user = self._user(body)
        if user is None:
            return JSONResponse({"error": "unknown user"}, status_code=400)
        block_id = str(body.get("block_id", ""))
        action_id = str(body.get("action_id", ""))
        value = body.get("value")
        if body.get("view_id"):
            values = _values(body)
            await run_in_threadpool(
                self.surface.view_action,
                user,
                str(body["view_id"]),
                block_id,
                action_id,
                value,
                values,
            )
        else:
            await run_in_threadpool(
                self.surface.message_action,
                user,
                str(body.get("conv", "")),
                str(body.get("ts", "")),
                block_id,
                action_id,
                value,
            )
        return JSONResponse({"ok": True})

    async def submit(self, request: Request) -> Response:
        body = await self._body(request)
        user = self._user(body)
        if user is None:
            return JSONResponse({"error": "unknown user"}, status_code=400)
        values = _values(body)
        errors = await run_in_threadpool(
            self.surface.submit, user, str(body.get("view_id", "")), values
        )
        return JSONResponse({"ok": not errors, "errors": errors})

    async def close(self, request: Request) -> Response:
        body = await self._body(request)
        user = self._user(body)
        if user is None:
            return JSONResponse({"error": "unknown user"}, status_code=400)
        await run_in_threadpool(self.surface.close, user, str(body.get("view_id", "")))
        return JSONResponse({"ok": True})

    async def home(self, request: Request) -> Response:
        body = await self._body(request)
        user = self._user(body)
        if user is None:
            return JSONResponse({"error": "unknown user"}, status_code=400)
        await run_in_threadpool(self.surface.open_home, user)
        return JSONResponse({"ok": True})

    async def clock(self, request: Request) -> Response:
        body = await self._body(request)
        surface = self.surface
        jump = str(body.get("jump", ""))
        now = surface.now()
        try:
            if jump == "hour":
                target = now + dt.timedelta(hours=1)
            elif jump == "day":
                target = now + dt.timedelta(days=1)
            elif jump == "week":
                target = now + dt.timedelta(days=7)
            elif jump == "weekday":
                weekday = int(body.get("weekday", 3))
                hh, mm = str(body.get("time", "08:00")).split(":")
                target = surface.next_weekday(weekday % 7, dt.time(int(hh), int(mm)))
            elif jump in ("agenda", "round", "deadline", "osf-agenda", "review"):
                found = self.demo_times()[jump]
                if found is None:
                    return JSONResponse({"error": "Ingen sådan tidpunkt det närmaste året."}, 400)
                target = found
            elif jump == "at":
                local = dt.datetime.fromisoformat(str(body.get("at", "")))
                target = local.replace(tzinfo=surface.zone) if local.tzinfo is None else local
            else:
                return JSONResponse({"error": "unknown jump"}, status_code=400)
        except (ValueError, TypeError):
            return JSONResponse({"error": "Ange datum och tid, t.ex. 2026-12-03T08:00."}, 400)
        problem = await run_in_threadpool(surface.set_clock, target)
        if problem:
            return JSONResponse({"error": problem}, status_code=502)
        return JSONResponse({"ok": True, "clock": clock_label(target.astimezone(surface.zone))})

    async def slack_events(self, request: Request) -> Response:
        """Forward to the bot unchanged (signature headers included)."""
        body = await request.body()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower().startswith("x-slack-") or k.lower() == "content-type"
        }

        def forward() -> tuple[int, bytes, str]:
            req = urllib.request.Request(
                self.surface.link.base_url + "/slack/events",
                data=body,
                headers=headers,
                method="POST",
            )
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    return resp.status, resp.read(), resp.headers.get("Content-Type", "text/plain")
            except urllib.error.HTTPError as err:
                with err:
                    return err.code, err.read(), err.headers.get("Content-Type", "text/plain")
            except OSError as exc:
                return 502, str(exc).encode(), "text/plain"

        status, data, content_type = await run_in_threadpool(forward)
        return Response(data, status_code=status, media_type=content_type)

    async def file(self, request: Request) -> Response:
        """A shared file's bytes, as its card links to them."""
        file_id = str(request.path_params["file_id"])
        name = str(request.path_params["name"])
        data = self.ws.file_source(file_id)
        if data is None:
            return Response("not found", status_code=404)
        kinds = {
            "png": "image/png",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "csv": "text/csv; charset=utf-8",
            "pdf": "application/pdf",
        }
        ext = name.rsplit(".", 1)[-1].lower()
        return Response(
            data,
            media_type=kinds.get(ext, "application/octet-stream"),
            headers={"X-Content-Type-Options": "nosniff"},
        )

    async def healthz(self, request: Request) -> Response:
        ready = self.ws.status == "ready"
        return JSONResponse({"status": self.ws.status}, status_code=200 if ready else 503)


def build_page(surface: Surface) -> Starlette:
    page = Page(surface)
    return Starlette(
        routes=[
            Route("/", page.index),
            Route("/ui/state", page.get_state),
            Route("/ui/command", page.command, methods=["POST"]),
            Route("/ui/action", page.action, methods=["POST"]),
            Route("/ui/submit", page.submit, methods=["POST"]),
            Route("/ui/close", page.close, methods=["POST"]),
            Route("/ui/home", page.home, methods=["POST"]),
            Route("/ui/clock", page.clock, methods=["POST"]),
            Route("/slack/events", page.slack_events, methods=["POST"]),
            Route("/healthz", page.healthz),
            Route("/files/{file_id}/{name}", page.file),
            Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        ]
    )

"""The one slash command, ``/samverkan``, with Swedish and English subcommands."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse, Respond
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from domain import forums as forum_service
from domain import scheduling
from domain.errors import DomainError, InvalidInput
from domain.i18n import N_, Locale, Translator
from domain.references import EXAMPLE_REFERENCE, REFERENCE_SHAPE, example_reference
from handlers import actions as action_handlers
from handlers import agenda as agenda_handlers
from handlers import cases as case_handlers
from handlers import criteria as criteria_handlers
from handlers import feedback as feedback_handlers
from handlers import forum as forum_handlers
from handlers import privacy as privacy_handlers
from handlers import ratings as rating_handlers
from handlers import review as review_handlers
from handlers import slack_text
from handlers import steering as steering_handlers
from handlers.blocks import forum as ui
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors, failure_text
from handlers.listener import listener
from handlers.payload import ack_only
from storage.db import reading

log = logging.getLogger(__name__)

COMMAND = "/samverkan"
HELP = {"hjälp", "hjalp", "help", "?", "-h", "--help"}
FORUM = {"forum"}
NEW = {"ny", "nytt", "new", "skapa", "create"}
MEMBERS = {"medlemmar", "members", "medlem", "member"}
SETTINGS = {"", "inställningar", "installningar", "settings"}
CASE = {"ärende", "arende", "case"}
CASES = {"ärenden", "arenden", "cases"}
DEVIATION = {"avvikelse", "deviation"}
MEETINGS = {"möten", "moten", "möte", "mote", "meetings", "meeting"}
EXTRA = {"extra", "extramöte", "extramote"}
AGENDA = {"dagordning", "agenda"}
ITEM = {"punkt", "item", "övrigt", "ovrigt"}
LEAVE = {"lämna", "lamna", "leave"}
KNOWN_WORDS = (
    HELP
    | FORUM
    | NEW
    | MEMBERS
    | SETTINGS
    | CASE
    | CASES
    | DEVIATION
    | MEETINGS
    | AGENDA
    | ITEM
    | LEAVE
) | (privacy_handlers.WORDS | rating_handlers.WORDS | action_handlers.WORDS)


Route = Callable[[Deps, WebClient, Translator, CommandRequest], "dict[str, Any] | None"]
# Subcommands of modules with a WORDS set and a route(deps, client, t, req) (issue #16 on).
ROUTED = (feedback_handlers, criteria_handlers, review_handlers, steering_handlers)


def parse(text: str) -> tuple[str, list[str]]:
    """The subcommand and the words after it, as plain lower-case text (Slack's escaped
    markup and entities read by handlers.slack_text)."""
    words = [slack_text.plain(w) for w in slack_text.tokens(text)]
    if not words:
        return "", []
    return words[0].casefold(), [w.casefold() for w in words[1:]]


def word_of(text: str) -> str:
    """The subcommand, when it is one we know (safe to log), else "?"."""
    word, _rest = parse(text)
    return word if word in KNOWN_WORDS else "?"


def in_direct_message(req: CommandRequest) -> bool:
    """A DM or a group DM (mpim): never a forum's channel, and the bot cannot join it.
    Slack names a DM ``directmessage`` and a group DM ``mpdm-…`` in the command."""
    name = req.channel_name
    return req.channel_id.startswith("D") or name == "directmessage" or name.startswith("mpdm-")


def _require_channel(req: CommandRequest) -> None:
    if in_direct_message(req):
        raise InvalidInput(
            N_("Run the command in the forum's channel: a direct message or group DM has no forum.")
        )


def route(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest
) -> dict[str, Any] | None:
    """Do what the command asks; return an ephemeral message, or None when a modal opened."""
    word, rest = parse(req.text)
    if word in HELP:
        return ui.help_message(t, help_reference(deps, req.team_id, req.channel_id))
    if word == "":
        return menu(deps, t, req)
    if word in LEAVE:
        # No command leaves a forum: leaving its channel does (or a coordinator removes you).
        return ui.text_message(
            t(
                "To leave a forum, leave its channel (in Slack: the channel's name, then Leave "
                "channel): you are then no longer a member. A coordinator of the forum can "
                "also remove you."
            )
        )
    if word in FORUM or word in MEMBERS:
        sub = rest[0] if rest else ""
        if word in MEMBERS or sub in MEMBERS:
            _require_channel(req)
            forum_handlers.open_members(deps, client, t, req)
            return None
        if sub in NEW:
            _require_channel(req)
            forum_handlers.open_create_modal(deps, client, t, req)
            return None
        if sub in SETTINGS:
            _require_channel(req)
            return forum_handlers.open_forum(deps, client, t, req)
    if word in CASE or (word in NEW and rest and rest[0] in CASE):
        _require_channel(req)
        if word in CASE and rest and REFERENCE_SHAPE.match(rest[0].upper()):
            # "/samverkan ärende FOS-2026-017": that case, not a blank new one.
            case_handlers.open_case_by_reference(deps, client, t, req, rest[0].upper())
            return None
        case_handlers.open_case_modal(deps, client, t, req)
        return None
    if word in CASES:
        _require_channel(req)
        if rest and REFERENCE_SHAPE.match(rest[0].upper()):
            case_handlers.open_case_by_reference(deps, client, t, req, rest[0].upper())
            return None
        return case_handlers.case_list(
            deps, t, team_id=req.team_id, channel_id=req.channel_id, user_id=req.user_id
        )
    if word in privacy_handlers.WORDS:
        _require_channel(req)
        return privacy_handlers.route(deps, client, t, req)
    if word in rating_handlers.WORDS:
        _require_channel(req)
        return rating_handlers.route(deps, client, t, req)
    if word in action_handlers.WORDS:
        _require_channel(req)
        return action_handlers.route(deps, client, t, req, word, rest)
    for module in ROUTED:
        if word in module.WORDS:
            _require_channel(req)
            routed: dict[str, Any] | None = module.route(deps, client, t, req)
            return routed
    if word in DEVIATION:
        _require_channel(req)
        case_handlers.open_deviation_modal(
            deps, client, t, req, case_reference=rest[0].upper()[:32] if rest else None
        )
        return None
    if word in MEETINGS:
        _require_channel(req)
        if rest and rest[0] in EXTRA:
            # "/samverkan möten extra 2026-12-10 13:00": the day and time as typed.
            words = slack_text.after(req.text, 2).split()
            return agenda_handlers.extra_command(deps, client, t, req, words)
        return agenda_handlers.meetings_list(deps, t, req)
    if word in AGENDA:
        _require_channel(req)
        return agenda_handlers.show_agenda(deps, t, req)
    if word in ITEM:
        _require_channel(req)
        # The text as typed (not case-folded): everything after the first word.
        text = slack_text.after(req.text, 1)
        return agenda_handlers.add_item(deps, client, t, req, text)
    return ui.unknown_command_message(t, slack_text.shown(slack_text.plain(req.text)).strip())


def menu(deps: Deps, t: Translator, req: CommandRequest) -> dict[str, Any]:
    """What this person may do in this channel, by their role in its forum."""
    if req.channel_id.startswith("D"):
        return ui.menu_message(t, forum_name=None, in_dm=True)
    with database_errors(), reading(deps.sessions) as session:
        forum = forum_service.forum_for_channel(
            session, team_id=req.team_id, channel_id=req.channel_id
        )
        member = (
            forum_service.find_member(session, forum=forum, slack_user_id=req.user_id)
            if forum
            else None
        )
        name = forum.name if forum else None
        role = member.role.value if member else None
        refused = scheduling.channel_refused(forum) if forum and member else None
    return ui.menu_message(
        t, forum_name=name, role=role, channel_refused=refused, channel_id=req.channel_id
    )


def _example_reference(deps: Deps, code: tuple[str, str] | None) -> str:
    if code is None:
        return EXAMPLE_REFERENCE
    forum_code, timezone = code
    return example_reference(forum_code, deps.clock.now().astimezone(ZoneInfo(timezone)).year)


def help_reference(deps: Deps, team_id: str, channel_id: str) -> str:
    """The help's example case reference: the forum's own format (its code, this year in
    its time zone) in a forum's channel, else the general example. The channel's forum is
    read once and kept for a while (:meth:`Deps.cached_forum_code`)."""
    if not channel_id or channel_id.startswith("D"):
        return EXAMPLE_REFERENCE
    known, code = deps.cached_forum_code(team_id, channel_id)
    if not known:
        try:
            with reading(deps.sessions) as session:
                forum = forum_service.forum_for_channel(
                    session, team_id=team_id, channel_id=channel_id
                )
                code = (forum.code, forum.timezone) if forum is not None else None
        except Exception:  # the help never fails for its example: the general one then
            log.warning("help: the channel's forum could not be read", exc_info=True)
            return EXAMPLE_REFERENCE
        deps.remember_forum_code(team_id, channel_id, code)
    return _example_reference(deps, code)


@functools.lru_cache(maxsize=256)
def _help_body(locale: Locale, reference: str = EXAMPLE_REFERENCE) -> str:
    """The ack's JSON body for the help, as bolt's ``ack(response_type="ephemeral", …)``
    would send it: the same for everyone with this locale in forums of this code (this
    year), so built once per process for each."""
    message: dict[str, Any] = ui.help_message(Translator(locale), reference)
    ack = Ack()  # type: ignore[no-untyped-call]
    ack(response_type="ephemeral", **message)
    assert ack.response is not None
    return ack.response.body


def _quick_help(deps: Deps, body: dict[str, Any]) -> tuple[Locale, str] | None:
    """The locale and example reference of a help that needs neither the database nor
    Slack: the subcommand is help, the user's locale is already known (cached), and so is
    the channel's forum (or that it has none, or it is a DM)."""
    word, _rest = parse(body.get("text", ""))
    if word not in HELP:
        return None
    locale = deps.cached_locale(body.get("team_id"), body["user_id"])
    if locale is None:
        return None
    channel_id = str(body.get("channel_id") or "")
    if not channel_id or channel_id.startswith("D"):
        return locale, EXAMPLE_REFERENCE
    known, code = deps.cached_forum_code(body.get("team_id"), channel_id)
    if not known:
        return None
    return locale, _example_reference(deps, code)


class QuickHelp(Middleware):
    """``/samverkan hjälp`` from a user whose locale is known, in a channel whose forum (or
    none) was read lately, answered right here in the ack with the help serialised once per
    locale and example reference: no listener matching, no ack object, no JSON
    encoding and no lazy listener (bolt would copy the request and start a thread for it).
    Installed after the context middleware (it reads ``deps``); anything else goes on."""

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        body = req.body
        if body.get("command") == COMMAND and "user_id" in body:
            quick = _quick_help(req.context["deps"], body)
            if quick is not None:
                return BoltResponse(status=200, body=_help_body(*quick))
        return next()


def ack_command(ack: Ack) -> None:
    # Within milliseconds; the lazy listener below does the work (a help that can be
    # answered at once never gets here: QuickHelp answers it in the ack).
    ack()


def answer(
    deps: Deps,
    req: CommandRequest,
    client: WebClient,
    respond: Respond,
    *,
    in_place: bool = False,
) -> None:
    t = deps.translator(client, req.team_id, req.user_id)
    try:
        reply = route(deps, client, t, req)
    except Exception as exc:  # after the ack: the user must hear about any failure
        if not isinstance(exc, DomainError):
            # The subcommand only: what follows it may be anything the user typed.
            log.exception("command %r failed", word_of(req.text))
        reply = ui.text_message(failure_text(t, exc))
    if reply is not None:
        # From the menu, the answer takes the menu's place instead of piling up below it.
        respond(response_type="ephemeral", replace_original=in_place, **reply)


def run_command(
    body: dict[str, Any],
    client: WebClient,
    respond: Respond,
    context: BoltContext,
    deps: Deps,
) -> None:
    req = CommandRequest(
        team_id=context.team_id or "",
        channel_id=context.channel_id or "",
        user_id=context.user_id or "",
        trigger_id=body.get("trigger_id", ""),
        text=body.get("text", ""),
        channel_name=body.get("channel_name", ""),
    )
    answer(deps, req, client, respond)


# Every menu button runs a command as if typed (the suggestion after a typo, too).
MENU_ROUTES = {**ui.MENU_COMMANDS, ui.ACTION_MENU_RUN: "hjälp"}


@listener("ephemeral", needs=("message",))
def run_menu(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, deps: Deps
) -> None:
    action = body["actions"][0]
    action_id = action["action_id"]
    suggested = str(action.get("value") or "") if action_id == ui.ACTION_MENU_RUN else ""
    req = CommandRequest(
        team_id=context.team_id or "",
        channel_id=context.channel_id or "",
        user_id=context.user_id or "",
        trigger_id=body.get("trigger_id", ""),
        text=suggested if suggested in ui.KNOWN_COMMANDS else MENU_ROUTES[action_id],
        channel_name=str((body.get("channel") or {}).get("name") or ""),
    )
    answer(deps, req, client, respond, in_place=True)


def register(app: App) -> None:
    app.middleware(QuickHelp())  # a help it can answer at once never reaches a listener
    app.command(COMMAND)(ack=ack_command, lazy=[run_command])
    for action_id in MENU_ROUTES:
        app.action(action_id)(ack=ack_only, lazy=[run_menu])

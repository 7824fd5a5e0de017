"""Demo people, channels and forums for the sandbox.

The forums are set up the way a person would do it: ``/samverkan forum ny`` in the channel,
a template chosen in the modal, the modal submitted, then ``/samverkan forum medlemmar`` for
the members, and for the OSF-like forum ``/samverkan lägesbild inställningar`` so it rates
before every meeting. Nothing here knows the bot's code: it reads the modals the bot opens
and fills their fields by block id (``name``, ``own_agency``, ``users``, ``cadence`` …) and
option text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sandbox.blockkit_html import INPUT_TYPES, initial_raw, option_value
from sandbox.surface import Surface
from sandbox.webapi import BOT_USER_ID, TEAM_ID, SlackWebApiStub
from sandbox.workspace import Channel, Person

__all__ = ["CHANNELS", "FORUMS", "PEOPLE", "DemoForum", "SeedError", "configure_stub", "seed"]

PEOPLE: tuple[Person, ...] = (
    Person("U01ANNA", "Anna Lindqvist", "rektor", "Grundskola"),
    Person("U02SARA", "Sara Nilsson", "skolkurator", "Elevhälsa"),
    Person("U03ERIK", "Erik Johansson", "socialsekreterare", "Socialtjänst/IFO"),
    Person("U04PER", "Per Andersson", "kommunpolis", "Polis"),
    Person("U05LEJLA", "Lejla Hodžić", "fritidsledare", "Fritidsgård"),
    # Slack set to English: the bot answers her in English (menu, help, App Home, modals).
    Person("U06NORA", "Nora Ek", "school nurse, new (no forum yet)", "Elevhälsa", "en-GB"),
)

CHANNELS: tuple[Channel, ...] = (
    Channel("C01FOSSAM", "fossam", "Veckovis ärendeforum, torsdagar 13–15"),
    Channel("C02OSF", "osf-centrum", "Brottsförebyggande forum med områden"),
    Channel("C03PROVA", "prova-själv", "Tom kanal: skapa ett eget forum med /samverkan forum ny"),
    Channel("C04STYR", "styrgrupp", "Styrgrupp för barns bästa: följer FOSSAM och OSF"),
)


@dataclass(frozen=True)
class DemoForum:
    channel: str
    creator: str
    template: str
    own_agency: str
    members: Sequence[tuple[Sequence[str], str, str]]
    """(people, agency, role) groups added through the members modal."""
    situation_picture: str | None = None
    """The cadence chosen in ``/samverkan lägesbild inställningar`` (its option text)."""


FORUMS: tuple[DemoForum, ...] = (
    DemoForum(
        channel="C01FOSSAM",
        creator="U01ANNA",
        template="fossam",
        own_agency="Grundskola",
        members=(
            (("U02SARA",), "Elevhälsa", "coordinator"),
            (("U03ERIK",), "Socialtjänst/IFO", "member"),
        ),
    ),
    DemoForum(
        channel="C02OSF",
        creator="U04PER",
        template="osf",
        own_agency="Polis",
        members=(
            (("U03ERIK",), "Socialtjänst/IFO", "coordinator"),
            (("U05LEJLA",), "Fritidsgård", "member"),
            (("U01ANNA",), "Grundskola", "member"),
        ),
        # The template rates every other meeting; the demo rates before every meeting, so
        # each jump to "the round opens" on the page's clock opens one (demo_calendar.OSF).
        situation_picture="Varje möte",
    ),
    DemoForum(
        channel="C04STYR",
        creator="U03ERIK",
        template="styrgrupp",
        own_agency="Socialtjänst/IFO",
        members=((("U01ANNA",), "Grundskola", "coordinator"),),
    ),
)
STEERING = "C04STYR"
"""The steering group follows the forums in these channels (figures only)."""
FOLLOWED = ("FOSSAM", "OSF")
DEMO_SUMMARY = "Hög frånvaro sedan hösten, behöver samordnat stöd (demo)"

WAIT_SECONDS = 15.0


class SeedError(Exception):
    """Setting up a demo forum failed; the message says where."""


def configure_stub(stub: SlackWebApiStub) -> None:
    """Tell the Web API stand-in who the people are and which channels exist."""
    for person in PEOPLE:
        stub.set_user(
            person.id,
            name=person.name.split()[0].lower(),
            real_name=person.name,
            locale=person.locale,
            title=person.title,
        )
    members = [p.id for p in PEOPLE] + [BOT_USER_ID]
    for channel in CHANNELS:
        stub.set_channel(
            channel.id,
            name=channel.name,
            name_normalized=channel.name,
            is_member=True,
            topic={"value": channel.topic, "creator": "", "last_set": 0},
        )
        stub.set_channel_members(channel.id, members)


def _base(block_id: str) -> str:
    return block_id.split(".", 1)[0]


def fill(view: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The view's initial values with ``wanted`` (by block id without its ``.N`` suffix)
    filled in; option texts are turned into option values."""
    raw = initial_raw(view.get("blocks"))
    blocks = [b for b in view.get("blocks") or [] if isinstance(b, dict)]
    for name, value in wanted.items():
        block = next((b for b in blocks if _base(str(b.get("block_id", ""))) == name), None)
        element = (block or {}).get("element")
        if block is None or not isinstance(element, dict) or element.get("type") not in INPUT_TYPES:
            raise SeedError(f"the modal has no field {name!r}")
        values = value if isinstance(value, list | tuple) else [value]
        resolved = []
        for v in values:
            found = option_value(element, str(v))
            resolved.append(found if found is not None else str(v))
        multiple = str(element["type"]).startswith("multi_") or element["type"] == "checkboxes"
        raw.setdefault(str(block["block_id"]), {})[str(element.get("action_id", ""))] = (
            resolved if multiple else resolved[0]
        )
    return raw


def _wait_modal(surface: Surface, user: str, *, other_than: str | None = None) -> dict[str, Any]:
    ws = surface.workspace

    def ready() -> bool:  # called with the workspace's (re-entrant) lock held
        top = ws.top_modal(user)
        return top is not None and top.get("hash") != other_than

    if not ws.wait_until(ready, WAIT_SECONDS):
        raise SeedError(f"no modal opened for {user}")
    view = ws.top_modal(user)
    assert view is not None
    return view


def _submit(
    surface: Surface, user: str, view: Mapping[str, Any], wanted: Mapping[str, Any]
) -> None:
    errors = surface.submit(user, str(view["id"]), fill(view, wanted))
    if errors:
        raise SeedError(f"the bot refused the modal: {errors}")


def _channel_has_forum(surface: Surface, forum: DemoForum) -> bool:
    return any(
        m.author == BOT_USER_ID and m.ephemeral_for is None
        for m in surface.workspace.messages(forum.creator, forum.channel)
    )


def seed_forum(surface: Surface, forum: DemoForum) -> None:
    ws = surface.workspace
    user = forum.creator
    surface.command(user, forum.channel, "/samverkan forum ny")
    view = _wait_modal(surface, user)
    template = next(
        (b for b in view.get("blocks") or [] if _base(str(b.get("block_id", ""))) == "template"),
        None,
    )
    if template is not None:
        element = template["element"]
        surface.view_action(
            user,
            str(view["id"]),
            str(template["block_id"]),
            str(element.get("action_id", "")),
            option_value(element, forum.template) or forum.template,
            {},
        )
        view = _wait_modal(surface, user, other_than=str(view.get("hash")))
    _submit(surface, user, view, {"own_agency": forum.own_agency})
    if not ws.wait_until(lambda: _channel_has_forum(surface, forum), WAIT_SECONDS):
        raise SeedError(f"the forum in {forum.channel} was not announced")

    surface.command(user, forum.channel, "/samverkan forum medlemmar")
    view = _wait_modal(surface, user)
    for people, agency, role in forum.members:
        _submit(surface, user, view, {"users": list(people), "agency": agency, "role": role})
        view = _wait_modal(surface, user)
    surface.close(user, str(view["id"]))

    if forum.situation_picture is not None:
        surface.command(user, forum.channel, "/samverkan lägesbild inställningar")
        view = _wait_modal(surface, user)
        _submit(surface, user, view, {"cadence": forum.situation_picture})
        notice = ws.top_modal(user)
        if notice is not None:  # the bot answered with a notice instead of closing the modal
            texts = [str((b.get("text") or {}).get("text", "")) for b in notice.get("blocks") or []]
            surface.close(user, str(notice["id"]))
            raise SeedError(f"the situation picture settings were not saved: {' '.join(texts)}")


def _button(blocks: Any, action_id: str) -> tuple[str, dict[str, Any]] | None:
    """(block id, element) of the first element whose action_id starts with ``action_id``."""
    for i, block in enumerate(blocks or []):
        if not isinstance(block, dict):
            continue
        for element in [block.get("accessory"), *(block.get("elements") or [])]:
            if isinstance(element, dict) and str(element.get("action_id", "")).startswith(
                action_id
            ):
                return str(block.get("block_id") or f"_b{i}"), element
    return None


def _click_in_message(surface: Surface, user: str, conversation: str, action_id: str) -> None:
    ws = surface.workspace
    found: list[tuple[str, str, dict[str, Any]]] = []

    def ready() -> bool:
        for message in reversed(ws.messages(user, conversation)):
            hit = _button(message.blocks, action_id)
            if hit is not None:
                found.append((message.ts, *hit))
                return True
        return False

    if not ws.wait_until(ready, WAIT_SECONDS):
        raise SeedError(f"no {action_id} button for {user} in {conversation}")
    ts, block_id, element = found[0]
    surface.message_action(
        user, conversation, ts, block_id, action_id_of(element), element.get("value")
    )


def action_id_of(element: Mapping[str, Any]) -> str:
    return str(element.get("action_id", ""))


def seed_criteria(surface: Surface) -> None:
    """FOSSAM's case criteria from the FOSSAM template, as a coordinator would."""
    user, channel = "U01ANNA", "C01FOSSAM"
    surface.command(user, channel, "/samverkan kriterier")
    view = _wait_modal(surface, user)
    element = _field(view, "template")
    surface.view_action(user, str(view["id"]), "template", action_id_of(element), "fossam", {})
    view = _wait_modal(surface, user, other_than=str(view.get("hash")))
    _submit(surface, user, view, {})


def seed_steering(surface: Surface) -> None:
    """The steering group follows FOSSAM and OSF. Only a forum's own coordinators let a
    steering forum follow it: Erik (coordinator of OSF) adds OSF, Anna (FOSSAM's admin and a
    coordinator of the steering group) adds FOSSAM."""
    for user, followed in (("U03ERIK", ("OSF",)), ("U01ANNA", FOLLOWED)):
        surface.command(user, STEERING, "/samverkan styrning inställningar")
        view = _wait_modal(surface, user)
        _submit(surface, user, view, {"steering_level": "Styrgrupp", "steering_forums": followed})


def seed_closed_case(surface: Surface) -> None:
    """A case raised in FOSSAM, closed, and the survey answered by Elevhälsa."""
    ws = surface.workspace
    user, channel = "U01ANNA", "C01FOSSAM"
    surface.command(user, channel, "/samverkan ärende")
    view = _wait_modal(surface, user)
    _submit(
        surface,
        user,
        view,
        {
            "summary": DEMO_SUMMARY,
            "concerns": ["school_absence"],
            "age_band": "13-15",
            "agencies": ["Elevhälsa"],
            "consent": "guardians",
            "consent_agencies": ["Elevhälsa"],
            "consent_given_on": surface.now().astimezone(surface.zone).date().isoformat(),
        },
    )
    surface.command(user, channel, "/samverkan ärenden")
    _click_in_message(surface, user, channel, "case_open")
    view = _wait_modal(surface, user)
    hit = _button(view.get("blocks"), "case_status_closed")
    if hit is None:
        raise SeedError("the case modal has no close button")
    block_id, element = hit
    surface.view_action(
        user, str(view["id"]), block_id, action_id_of(element), element.get("value"), {}
    )
    closing = _wait_modal(surface, user, other_than=str(view.get("hash")))
    _submit(surface, user, closing, {"outcome": "Stöd via elevhälsan", "effect": "yes"})
    top = ws.top_modal(user)
    if top is not None:
        surface.close(user, str(top["id"]))
    # Elevhälsa answers the survey from its DM.
    sara = "U02SARA"
    _click_in_message(surface, sara, f"D{sara}", "feedback_survey_open")
    survey = _wait_modal(surface, sara)
    _submit(surface, sara, survey, {"helped": "4", "right_agencies": "5", "worth_raising": "4"})
    top = ws.top_modal(sara)
    if top is not None:
        surface.close(sara, str(top["id"]))


def _field(view: Mapping[str, Any], name: str) -> dict[str, Any]:
    block = next(
        (b for b in view.get("blocks") or [] if _base(str(b.get("block_id", ""))) == name), None
    )
    if block is None:
        raise SeedError(f"the modal has no field {name!r}")
    return dict(block["element"])


def invite_to_empty_channels(surface: Surface, forums: Sequence[DemoForum]) -> None:
    """The bot invited to the channels with no demo forum (#prova-själv), as Slack tells it
    when someone types ``/invite @Samverkan``: the bot then says there how to set up a forum,
    so an evaluator who opens the empty channel first reads how to start."""
    with_forum = {forum.channel for forum in forums}
    for channel in CHANNELS:
        if channel.id not in with_forum:
            surface.link.event(
                {
                    "type": "member_joined_channel",
                    "user": BOT_USER_ID,
                    "channel": channel.id,
                    "channel_type": "C",
                    "team": TEAM_ID,
                    "inviter": PEOPLE[0].id,
                }
            )


def seed(surface: Surface, forums: Sequence[DemoForum] = FORUMS) -> None:
    """Set up the demo forums through the bot, one after the other."""
    for forum in forums:
        seed_forum(surface, forum)
    if forums is FORUMS:
        seed_criteria(surface)
        seed_steering(surface)
        seed_closed_case(surface)
    invite_to_empty_channels(surface, forums)
    # Seeding typed commands as these people: clear their echoes and the set-up replies.
    for forum in forums:
        for message in surface.workspace.messages(forum.creator, forum.channel):
            if message.ephemeral_for is not None:
                surface.workspace.delete(forum.channel, message.ts)

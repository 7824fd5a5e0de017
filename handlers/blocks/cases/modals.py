"""The case modal, the close modal, the deviation modal and the deviation DM."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from domain.cases import (
    AGE_BANDS,
    CONCERNS,
    DEVIATION_KINDS,
    DEVIATION_TEXT_MAX,
    FOLLOW_UP_NOTE_MAX,
    FOLLOW_UP_OUTCOMES,
    OUTCOME_MAX,
    SUMMARY_MAX,
    DeviationView,
    OpenDeviations,
)
from domain.clock import as_utc
from domain.corrections import REDACTED, Field
from domain.i18n import Translator
from handlers.blocks.cases.ids import (
    ACTION_DEVIATION_OPEN,
    CB_CASE_AGENCIES,
    CB_CASE_CLOSE,
    CB_CASE_CONSENT,
    CB_CASE_NEW,
    CB_CASE_SIP,
    CB_DEVIATION,
    CB_DEVIATION_FOLLOW_UP,
    MAX_OPTIONS,
    SIP_STARTED_VALUE,
)
from handlers.blocks.cases.labels import (
    _agency_options,
    _line,
    _names,
    _select,
    age_band_label,
    deviation_kind_label,
    effect_label,
    sip_label,
)
from handlers.blocks.common import (
    Block,
    actions,
    button,
    context,
    divider,
    escape,
    header,
    input_block,
    message,
    modal,
    option,
    plain,
    section,
    text_input,
)
from handlers.blocks.corrections import redact_button
from handlers.blocks.home import HomeSection
from storage.models import ConsentGiver, Effect, SipStatus

# --- raising a case -----------------------------------------------------------------------------


def case_modal(
    t: Translator,
    *,
    agencies: Sequence[tuple[int, str]],
    own_agency_id: int,
    meetings: Sequence[dt.datetime],
    tz: dt.tzinfo,
    private_metadata: str,
    criteria: Sequence[tuple[int, str, str | None]] = (),
) -> Block:
    """The "raise a case" modal. Input block ids are the :data:`CASE_FIELDS`, so an error on a
    field of the draft lands on that field; every element's action_id is ``value``."""
    agency_options = _agency_options(agencies)
    blocks: list[Block] = [
        context(
            t(
                "Never write names, personal identity numbers, phone numbers or addresses: "
                "use case references and non-identifying text."
            )
        ),
        input_block(
            "summary",
            t("Summary"),
            text_input("value", multiline=True, max_length=SUMMARY_MAX),
            hint=t(
                "Short and non-identifying: no names, personal identity numbers, phone "
                "numbers, e-mail or street addresses."
            ),
        ),
        input_block(
            "concerns",
            t("Concerns"),
            _select(
                "multi_static_select",
                t("Choose concerns"),
                [option(t(label), key) for key, label in CONCERNS.items()],
            ),
        ),
        input_block(
            "age_band",
            t("Age band"),
            {
                "type": "radio_buttons",
                "action_id": "value",
                "options": [option(age_band_label(t, band), band) for band in AGE_BANDS],
            },
        ),
    ]
    agencies_el = _select("multi_static_select", t("Choose agencies"), list(agency_options))
    own = [o for o in agency_options if o["value"] == str(own_agency_id)]
    if own:
        agencies_el["initial_options"] = own
    blocks.append(
        input_block(
            "agencies",
            t("Agencies that need to take part"),
            agencies_el,
            optional=True,
            hint=t("Your own agency always takes part."),
        )
    )
    if criteria:  # the forum's case criteria: optional, never blocking (domain.criteria)
        criteria_el: Block = {
            "type": "checkboxes",
            "action_id": "value",
            "options": [
                {**option(text, str(cid)), **({"description": plain(help_, 75)} if help_ else {})}
                for cid, text, help_ in criteria[:10]
            ],
        }
        blocks.append(
            input_block(
                "criteria",
                t("The forum's criteria this case meets"),
                criteria_el,
                optional=True,
                hint=t("Tick what fits, or leave it empty."),
            )
        )
    blocks.append(divider())
    blocks.extend(_consent_blocks(t, agency_options, given=False))
    sip_options = [option(sip_label(t, s), s.value) for s in SipStatus]
    blocks.append(
        input_block(
            "sip",
            t("SIP (coordinated individual plan)"),
            {
                "type": "radio_buttons",
                "action_id": "value",
                "options": sip_options,
                "initial_option": sip_options[0],
            },
            hint=t("A SIP needs consent."),
        )
    )
    meeting_options = [
        option(t.day_time(as_utc(m), tz), as_utc(m).astimezone(dt.UTC).isoformat())
        for m in meetings[:MAX_OPTIONS]
    ]
    if meeting_options:
        meeting_el = _select("static_select", t("Choose a meeting"), meeting_options)
        meeting_el["initial_option"] = meeting_options[0]
        blocks.append(input_block("meeting", t("Meeting"), meeting_el))
    else:
        blocks.append(
            context(t("The forum has no upcoming meeting: the case is raised without one."))
        )
    return modal(
        callback_id=CB_CASE_NEW,
        title=t("New case"),
        submit=t("Raise case"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def _consent_blocks(t: Translator, agency_options: list[Block], *, given: bool) -> list[Block]:
    """Who gave the consent, for which agencies, when and until when (block ids: the
    :data:`CONSENT_FIELDS`). ``given``: a consent recorded after raising ("Not given" is no
    consent to record, and the agencies are required)."""
    consent_options = [
        option(t("Guardian or guardians"), ConsentGiver.GUARDIANS.value),
        option(t("The child or young person (judged by maturity)"), ConsentGiver.CHILD.value),
        option(t("Both"), ConsentGiver.BOTH.value),
    ]
    if not given:
        consent_options.append(option(t("Not given"), ConsentGiver.NONE.value))
    blocks: list[Block] = [
        input_block(
            "consent",
            t("Consent given by"),
            {"type": "radio_buttons", "action_id": "value", "options": consent_options},
            hint=t("The form sets no age limit: judge whether the child is mature enough."),
        )
    ]
    if not given:
        blocks.append(
            context(
                t(
                    "Without consent the case is an anonymous consultation: only the concern "
                    "and the age band are shared with the other agencies."
                )
            )
        )
    blocks.append(
        input_block(
            "consent_agencies",
            t("Agencies the consent covers"),
            _select("multi_static_select", t("Choose agencies"), list(agency_options)),
            optional=not given,
            hint=None if given else t("Required when consent was given."),
        )
    )
    # The day the consent was given is part of the consent register (GDPR art. 7.1: the
    # consent can be shown); when it ends is optional.
    blocks.append(
        input_block(
            "consent_given_on",
            t("Consent given on"),
            {"type": "datepicker", "action_id": "value"},
            optional=not given,
            hint=None if given else t("Required when consent was given."),
        )
    )
    blocks.append(
        input_block(
            "consent_expires_on",
            t("Consent valid up to and including"),
            {"type": "datepicker", "action_id": "value"},
            optional=True,
        )
    )
    return blocks


def consent_modal(
    t: Translator,
    *,
    reference: str,
    agencies: Sequence[tuple[int, str]],
    private_metadata: str,
) -> Block:
    """Record a consent given after the case was raised, or a renewed one: it replaces the
    current consent (an agency it leaves out sees an anonymous consultation)."""
    blocks: list[Block] = [
        section(t("New consent for *{reference}*.", reference=escape(reference))),
        context(
            t(
                "It replaces the current consent: only the agencies you choose see the "
                "details from now on."
            )
        ),
        *_consent_blocks(t, _agency_options(agencies), given=True),
    ]
    return modal(
        callback_id=CB_CASE_CONSENT,
        title=t("Record consent"),
        submit=t("Record"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def agencies_modal(
    t: Translator,
    *,
    reference: str,
    agencies: Sequence[tuple[int, str]],
    chosen: Sequence[int],
    private_metadata: str,
) -> Block:
    """Which agencies must attend the case, changed after it was raised (the raising agency
    always does). Agencies added are told by DM."""
    options = _agency_options(agencies)
    element = _select("multi_static_select", t("Choose agencies"), list(options))
    initial = [o for o in options if o["value"] in {str(a) for a in chosen}]
    if initial:
        element["initial_options"] = initial
    blocks: list[Block] = [
        section(
            t("Agencies that need to take part in *{reference}*.", reference=escape(reference))
        ),
        input_block(
            "agencies",
            t("Agencies that need to take part"),
            element,
            optional=True,
            hint=t("The raising agency always takes part. Agencies you add are told by DM."),
        ),
    ]
    return modal(
        callback_id=CB_CASE_AGENCIES,
        title=t("Agencies"),
        submit=t("Save"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def sip_modal(t: Translator, *, reference: str, private_metadata: str) -> Block:
    """Whether a SIP is needed or started, changed after the case was raised (a SIP needs
    the case's consent as it stands now). The current value stays in the case modal
    beneath: this modal shows no detail of the case."""
    sip_options = [option(sip_label(t, s), s.value) for s in SipStatus]
    blocks: list[Block] = [
        section(t("The SIP of *{reference}*.", reference=escape(reference))),
        input_block(
            "sip",
            t("SIP (coordinated individual plan)"),
            {"type": "radio_buttons", "action_id": "value", "options": sip_options},
            hint=t("A SIP needs consent."),
        ),
    ]
    return modal(
        callback_id=CB_CASE_SIP,
        title=t("SIP"),
        submit=t("Save"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def close_case_modal(t: Translator, *, reference: str, private_metadata: str) -> Block:
    """Closing asks for a short outcome for the statistics: the effect and whether a SIP
    was started."""
    effect_options = [option(effect_label(t, e), e.value) for e in Effect]
    blocks: list[Block] = [
        section(t("Close *{reference}*.", reference=escape(reference))),
        context(
            t("A short outcome for the statistics. Never write names or other identifying data.")
        ),
        input_block(
            "outcome",
            t("Outcome"),
            text_input("value", multiline=True, max_length=OUTCOME_MAX),
            optional=True,
            hint=t("Short and non-identifying."),
        ),
        input_block(
            "effect",
            t("Did the actions have the desired effect?"),
            {"type": "radio_buttons", "action_id": "value", "options": effect_options},
        ),
        input_block(
            "sip_started",
            t("SIP"),
            {
                "type": "checkboxes",
                "action_id": "value",
                "options": [option(t("A SIP was started"), SIP_STARTED_VALUE)],
            },
            optional=True,
        ),
    ]
    return modal(
        callback_id=CB_CASE_CLOSE,
        title=t("Close case"),
        submit=t("Close case"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


# --- deviations -------------------------------------------------------------------------------


def deviation_modal(
    t: Translator,
    *,
    agencies: Sequence[tuple[int, str]],
    private_metadata: str,
    case_reference: str | None = None,
    reference_placeholder: str | None = None,
) -> Block:
    """Report that collaboration failed: which agencies, what kind, non-identifying text and
    an optional case reference. Input block ids are the :data:`DEVIATION_FIELDS`."""
    blocks: list[Block] = [
        context(
            t(
                "Report that collaboration failed in a case or a routine. The coordinator "
                "follows it up. Never write names or other identifying data."
            )
        ),
        input_block(
            "agencies",
            t("Agencies concerned"),
            _select("multi_static_select", t("Choose agencies"), _agency_options(agencies)),
        ),
        input_block(
            "kind",
            t("What kind of deviation"),
            _select(
                "static_select",
                t("Choose a kind"),
                [option(t(label), key) for key, label in DEVIATION_KINDS.items()],
            ),
        ),
        input_block(
            "text",
            t("What happened"),
            text_input("value", multiline=True, max_length=DEVIATION_TEXT_MAX),
            hint=t(
                "Non-identifying: no names, personal identity numbers, phone numbers, "
                "e-mail or street addresses."
            ),
        ),
        input_block(
            "case",
            t("Case reference"),
            text_input(
                "value",
                initial=case_reference,
                max_length=32,
                placeholder=reference_placeholder,
            ),
            optional=True,
        ),
    ]
    return modal(
        callback_id=CB_DEVIATION,
        title=t("Report a deviation"),
        submit=t("Report"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def deviation_dm_text(t: Translator, *, forum_name: str, kind: str, agencies: Sequence[str]) -> str:
    """The coordinators' DM about a new deviation: kind and agencies, never the text."""
    return t(
        "A deviation was reported in {forum}: {kind}. Agencies concerned: {agencies}.",
        forum=escape(forum_name),
        kind=deviation_kind_label(t, kind),
        agencies=_names(agencies),
    )


def deviation_dm(
    t: Translator, *, forum_name: str, kind: str, agencies: Sequence[str], deviation_id: int
) -> dict[str, object]:
    """The coordinators' DM about a new deviation, with the button that opens it for its
    follow-up (the text shows there, an audited read, never in the DM)."""
    text = deviation_dm_text(t, forum_name=forum_name, kind=kind, agencies=agencies)
    return message(
        text,
        [
            section(text),
            actions(
                button(t("Follow up"), ACTION_DEVIATION_OPEN, value=str(deviation_id)),
            ),
        ],
    )


def outcome_label(t: Translator, outcome: str | None) -> str:
    if outcome in FOLLOW_UP_OUTCOMES:
        return t(FOLLOW_UP_OUTCOMES[outcome])
    return escape(outcome or "–")


def deviation_followed_up_dm(
    t: Translator,
    *,
    forum_name: str,
    kind: str,
    reported_on: dt.date,
    outcome: str,
    deviation_id: int,
) -> dict[str, object]:
    """The reporter's DM: their deviation was followed up, and its outcome (what was done
    shows in the deviation's view, behind the button)."""
    text = t(
        "The deviation you reported in {forum} on {date} ({kind}) has been followed up: {outcome}.",
        forum=escape(forum_name),
        date=t.day(reported_on),
        kind=deviation_kind_label(t, kind),
        outcome=outcome_label(t, outcome),
    )
    return message(
        text,
        [
            section(text),
            actions(
                button(t("Show the follow-up"), ACTION_DEVIATION_OPEN, value=str(deviation_id)),
            ),
        ],
    )


def deviation_view_modal(
    t: Translator, view: DeviationView, *, tz: dt.tzinfo, private_metadata: str
) -> Block:
    """The deviation and its follow-up. A coordinator records (or corrects) the follow-up
    here: input block ids are the :data:`FOLLOW_UP_FIELDS`."""
    reported = t.day(as_utc(view.reported_at).astimezone(tz).date())
    lines = [
        _line(t("Forum"), escape(view.forum_name)),
        _line(t("Kind"), deviation_kind_label(t, view.kind)),
        _line(t("Reported"), reported),
        _line(t("Reporting agency"), escape(view.reporting_agency or "–")),
        _line(t("Agencies concerned"), _names(view.agencies)),
    ]
    if view.case_reference:
        lines.append(_line(t("Case"), escape(view.case_reference)))
    happened = t("What happened")
    blocks: list[Block] = [
        section("\n".join(lines)),
        section(f"*{happened}*\n{escape(view.text)}"),
        divider(),
    ]
    if view.followed_up_at is not None:
        done = t.day(as_utc(view.followed_up_at).astimezone(tz).date())
        followed = [
            _line(t("Followed up on"), done),
            _line(t("Outcome"), outcome_label(t, view.follow_up_outcome)),
        ]
        if view.followed_up_by:
            followed.append(_line(t("By"), f"<@{view.followed_up_by}>"))
        blocks.append(section("\n".join(followed)))
        done_label = t("What was done or agreed")
        blocks.append(section(f"*{done_label}*\n{escape(view.follow_up_note or '–')}"))
    else:
        not_yet = t("Not followed up yet.")
        blocks.append(section(f"*{not_yet}*"))
    # Masking (a coordinator): what happened, and what was done or agreed; a text already
    # masked offers nothing more to mask.
    masks: list[Block] = []
    if view.may_redact and view.text and view.text != REDACTED:
        masks.append(redact_button(t, Field.DEVIATION_TEXT, view.id, t("Mask what happened")))
    if view.may_redact and view.follow_up_note and view.follow_up_note != REDACTED:
        masks.append(
            redact_button(t, Field.DEVIATION_NOTE, view.id, t("Mask what was done or agreed"))
        )
    if masks:
        blocks.append(actions(*masks, block_id=f"deviation_fix.{view.id}"))
    if not view.may_follow_up:
        return modal(
            callback_id=CB_DEVIATION_FOLLOW_UP,
            title=t("Deviation"),
            close=t("Close"),
            blocks=blocks,
            private_metadata=private_metadata,
        )
    options = [option(t(label), key) for key, label in FOLLOW_UP_OUTCOMES.items()]
    outcome = _select("static_select", t("Choose an outcome"), options)
    if view.follow_up_outcome in FOLLOW_UP_OUTCOMES:
        outcome["initial_option"] = next(o for o in options if o["value"] == view.follow_up_outcome)
    blocks += [
        input_block(
            "note",
            t("What was done or agreed"),
            text_input(
                "value",
                multiline=True,
                max_length=FOLLOW_UP_NOTE_MAX,
                initial=view.follow_up_note,
            ),
            hint=t(
                "Non-identifying: no names, personal identity numbers, phone numbers, "
                "e-mail or street addresses."
            ),
        ),
        input_block("outcome", t("Outcome"), outcome),
    ]
    return modal(
        callback_id=CB_DEVIATION_FOLLOW_UP,
        title=t("Follow up deviation"),
        submit=t("Save"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def open_deviations_section(t: Translator, forums: Sequence[OpenDeviations]) -> HomeSection:
    """App Home, for coordinators: the deviations waiting for a follow-up in each of their
    forums (kind, agencies and date; the text shows in the deviation's view), one entry per
    forum."""
    if not forums:
        return HomeSection()
    entries: list[list[Block]] = []
    for forum in forums:
        entry = [
            section(
                t.ngettext(
                    "*{forum}*: {n} open",
                    "*{forum}*: {n} open",
                    forum.total,
                    forum=escape(forum.forum_name),
                )
            )
        ]
        for row in forum.shown:
            day = t.day(row.reported_on)
            entry.append(
                section(
                    f"{deviation_kind_label(t, row.kind)} · {day} · {_names(row.agencies)}",
                    accessory=button(t("Follow up"), ACTION_DEVIATION_OPEN, value=str(row.id)),
                )
            )
        entries.append(entry)

    def more(n: int) -> Block:
        return context(
            t.ngettext(
                "…and deviations to follow up in {n} more forum: the DM about each one has "
                "its button.",
                "…and deviations to follow up in {n} more forums: the DM about each one has "
                "its button.",
                n,
            )
        )

    return HomeSection(
        head=[divider(), header(t("Deviations to follow up"))], entries=entries, more=more
    )

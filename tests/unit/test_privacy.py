"""Privacy guard: personal data in free text is refused, ordinary forum text passes."""

from __future__ import annotations

import sys
import unicodedata
from datetime import date

import pytest

from domain.errors import IdentifyingDataRefused
from domain.privacy import (
    MSGIDS,
    Finding,
    check_fields,
    check_text,
    find_identifying,
)
from domain.privacy.normalise import _SPECIAL_RE, _has_specials
from tests.support.personnummer import luhn_digit, pnr


def bad_pnr(yymmdd: str, nnn: str, sep: str = "-") -> str:
    """The same number with a wrong check digit."""
    wrong = (int(luhn_digit(yymmdd + nnn)) + 1) % 10
    return f"{yymmdd}{sep}{nnn}{wrong}"


def test_luhn_helper_matches_known_numbers() -> None:
    assert pnr("811218", "987") == "811218-9876"
    assert pnr("701063", "239") == "701063-2391"  # samordningsnummer: day 03 + 60
    assert pnr("121212", "121") == "121212-1212"


# The table runs on a fixed date, not the wall clock: the century of a 10-digit number and
# which birth dates lie in the future depend on it.
TODAY = date(2026, 6, 15)

CHILD = pnr("170110", "238")  # a child born 2017, 170110-2384
CHILD_2005 = pnr("050315", "123")  # starts with 0 like a phone area code
COORD_CHILD = pnr("150871", "457")  # samordningsnummer, born 2015-08-11

# (text, expected kind or None, the text the finding must cover)
CASES: list[tuple[str, str | None, str]] = [
    # --- personnummer, every format ----------------------------------------------------
    ("811218-9876", "personnummer", "811218-9876"),
    ("19811218-9876", "personnummer", "19811218-9876"),
    ("8112189876", "personnummer", "8112189876"),
    ("198112189876", "personnummer", "198112189876"),
    ("811218 9876", "personnummer", "811218 9876"),
    ("811218+9876", "personnummer", "811218+9876"),
    ("811218–9876", "personnummer", "811218–9876"),  # typographic dash from a word processor
    ("20" + CHILD.replace("-", ""), "personnummer", "20" + CHILD.replace("-", "")),
    (f"Pojken ({CHILD}) har inte varit i skolan sedan v. 45.", "personnummer", CHILD),
    (f"Barnet, pnr {pnr('121212', '121')}, bor hos mamma.", "personnummer", "121212-1212"),
    (f"Eleven {CHILD_2005} har hög frånvaro", "personnummer", CHILD_2005),
    (f"Född 20{CHILD_2005}, flyttade hit i våras", "personnummer", "20" + CHILD_2005),
    # spaces around the separator
    ("811218 - 9876", "personnummer", "811218 - 9876"),
    ("811218- 9876", "personnummer", "811218- 9876"),
    ("811218 -9876", "personnummer", "811218 -9876"),
    ("19811218 - 9876", "personnummer", "19811218 - 9876"),
    ("811218 – 9876", "personnummer", "811218 – 9876"),  # Word makes " - " an en dash
    ("Pnr 811218\u00a0-\u00a09876.", "personnummer", "811218\u00a0-\u00a09876"),
    (f"Pojken ({pnr('170110', '238', sep=' - ')}) går i åk 3", "personnummer", "170110 - 2384"),
    # invisible characters inside: the finding covers them, in the text as typed
    ("811218\u200b-9876", "personnummer", "811218\u200b-9876"),
    ("811218\u200d-9876", "personnummer", "811218\u200d-9876"),
    ("811218\ufeff-9876", "personnummer", "811218\ufeff-9876"),
    ("811218\u00ad-9876", "personnummer", "811218\u00ad-9876"),
    ("8112\u200b18\u200c98\u206076", "personnummer", "8112\u200b18\u200c98\u206076"),
    ("\ufeff811218-9876\u200b", "personnummer", "811218-9876"),
    ("Eleven 19811218\u200e-9876 har flyttat", "personnummer", "19811218\u200e-9876"),
    # full-width digits and forms (Japanese or Chinese input methods)
    ("８１１２１８－９８７６", "personnummer", "８１１２１８－９８７６"),
    ("811218－9876", "personnummer", "811218－9876"),
    ("Pnr: １９８１１２１８９８７６, bor i Gråbo", "personnummer", "１９８１１２１８９８７６"),
    ("８１１２１８\u200b－９８７６", "personnummer", "８１１２１８\u200b－９８７６"),
    # dashes inside the date
    ("1981-12-18-9876", "personnummer", "1981-12-18-9876"),
    ("81-12-18-9876", "personnummer", "81-12-18-9876"),
    ("Född 1981–12–18–9876 i Borås", "personnummer", "1981–12–18–9876"),
    ("Eleven 2017-01-10-2384 har hög frånvaro", "personnummer", "2017-01-10-2384"),
    ("Pnr 05-03-15-1235.", "personnummer", "05-03-15-1235"),
    ("81-12-18\u200b-9876", "personnummer", "81-12-18\u200b-9876"),
    # --- samordningsnummer (day + 60) ----------------------------------------------------
    ("701063-2391", "samordningsnummer", "701063-2391"),
    ("197010632391", "samordningsnummer", "197010632391"),
    (f"Samordningsnummer {COORD_CHILD} finns", "samordningsnummer", COORD_CHILD),
    ("70-10-63-2391", "samordningsnummer", "70-10-63-2391"),
    ("701063 - 2391", "samordningsnummer", "701063 - 2391"),
    ("７０１０６３－２３９１", "samordningsnummer", "７０１０６３－２３９１"),
    # --- phone numbers ---------------------------------------------------------------------
    ("070-123 45 67", "phone", "070-123 45 67"),
    ("+46 70 123 45 67", "phone", "+46 70 123 45 67"),
    ("08-123 456 78", "phone", "08-123 456 78"),
    ("0701234567", "phone", "0701234567"),
    ("031-12 34 56", "phone", "031-12 34 56"),
    ("Ring mamma på 070 123 45 67 efter kl 16.", "phone", "070 123 45 67"),
    ("Nås på (08) 123 456 78 dagtid", "phone", "(08) 123 456 78"),
    ("tel:0046701234567", "phone", "0046701234567"),
    ("Ring 070\u200b-123\u00a045\u00a067 i kväll", "phone", "070\u200b-123\u00a045\u00a067"),
    ("０７０１２３４５６７", "phone", "０７０１２３４５６７"),
    # --- e-mail addresses ------------------------------------------------------------------
    ("anna.svensson@example.se", "email", "anna.svensson@example.se"),
    ("Mejla pappa: kalle_s+skola@mail.example.com.", "email", "kalle_s+skola@mail.example.com"),
    ("Kurator: åsa.öberg@skolan.göteborg.se", "email", "åsa.öberg@skolan.göteborg.se"),
    ("Mejla anna.svensson＠example.se", "email", "anna.svensson＠example.se"),
    # --- street address with postcode ------------------------------------------------------
    ("Storgatan 12, 411 05 Göteborg", "address", "Storgatan 12, 411 05"),
    ("Familjen bor på Kvarnvägen 3B, 448 30 Floda.", "address", "Kvarnvägen 3B, 448 30"),
    ("Lilla Nygatan 7, SE-111 28 Stockholm", "address", "Nygatan 7, SE-111 28"),
    ("Adress: Björkstigen 14 i 44330 Lerum", "address", "Björkstigen 14 i 44330"),
    ("Hemse: Tallbacken 4, 623 50 Hemse", "address", "Tallbacken 4, 623 50"),
    ("Stor\u00adgatan 12, 411\u00a005 Göteborg", "address", "Stor\u00adgatan 12, 411\u00a005"),
    # "ä" typed as "a" + a combining diaeresis (macOS file names, some web forms)
    ("Kvarnva\u0308gen 3B, 448 30 Floda", "address", "Kvarnva\u0308gen 3B, 448 30"),
    # --- negatives: invalid check digits, order and invoice numbers --------------------------
    (bad_pnr("811218", "987"), None, ""),
    (bad_pnr("811218", "987", sep=""), None, ""),
    (bad_pnr("701063", "239"), None, ""),
    ("Faktura 8112189870 är betald", None, ""),  # valid date, fails Luhn
    ("Ordernummer 1234567890", None, ""),
    ("Order 5566778899 levererad", None, ""),
    ("Leverantörens orgnr 556036-0793", None, ""),
    ("Löpnummer 12811218987645", None, ""),  # a personnummer inside a longer digit run
    (bad_pnr("811218", "987", sep=" - "), None, ""),
    ("81-12-18-" + bad_pnr("811218", "987")[-4:], None, ""),
    ("１９８１１２１８－" + bad_pnr("811218", "987")[-4:], None, ""),
    # "+" between the date and the last four is the 100-year separator (born 1881), with or
    # without spaces around it; a sum of amounts says so ("kr") and passes
    ("Summa 811218 + 9876", "personnummer", "811218 + 9876"),
    ("Summa 811218 + 9876 kr", None, ""),
    ("Diarienummer 12-1981-12-18-9876", None, ""),  # a longer dashed chain is a reference
    ("Löpnummer 1981-12-18-9876-2", None, ""),
    ("Löpnummer 1981-12-18-98765", None, ""),
    # issue #14: the date split from the last four by a space is a personnummer too
    ("1981-12-18 9876", "personnummer", "1981-12-18 9876"),
    # --- negatives: dates, times, case references -------------------------------------------
    ("Nästa möte 2026-12-03", None, ""),
    ("Möte 3/12 kl 13", None, ""),
    ("Datum 20261203", None, ""),
    ("Torsdag 3 december 2026", None, ""),
    ("2026-12-03 kl 13:00-15:00", None, ""),
    ("Möte 2026-01-05 08:30 i rum 302", None, ""),
    ("Tid 13.00–15.00", None, ""),
    ("Ärende FOS-2026-017 tas upp igen", None, ""),
    ("OSF-2026-101 och FOS-2026-017 är avslutade", None, ""),
    ("Möte 2026-12-03 13:00", None, ""),
    ("möte 2026-12-03-04", None, ""),
    ("Möte 2026-12-03 - 13:00", None, ""),
    ("Ärende FOS-2026-017-1234", None, ""),
    ("Möte 2026\u201112\u201103 kl 13:00–15:00", None, ""),  # non-breaking hyphens
    ("Möte ２０２６－１２－０３ kl １３：００", None, ""),
    ("Datum 2026-06-15, ärende FOS-2026-017", None, ""),
    ("Möte 2026-12-03-1530", None, ""),  # valid check digit, but a birth date after TODAY
    ("Möte 26-12-03-1530 i Gråbo", None, ""),
    ("Tid 13:00\u200b-15:00, rum 302", None, ""),
    # --- negatives: amounts, counts, ranges -------------------------------------------------
    ("Bidrag 12 500 kr per månad", None, ""),
    ("Budget 1 200 000 kronor för 2020-2023", None, ""),
    ("Ombyggnaden på Storgatan kostade 35000 kr", None, ""),
    ("45 % av eleverna, 17 ärenden totalt", None, ""),
    ("Handlingsplan 2 beslutades för 12345 elever", None, ""),
    # --- a street and house number alone is an address too ------------------------------------
    ("Oro kring Storgatan 12", "address", "Storgatan 12"),
    ("Fritidsgården på Storgatan 12 har öppet på kvällarna", "address", "Storgatan 12"),
    # --- negatives: plain Swedish text, place names, postcode or street name alone --------------
    ("Oro för skolfrånvaro i Gråbo", None, ""),
    ("Familjen har flyttat till Hemse och behöver stöd från socialtjänsten.", None, ""),
    ("Möte på skolan i Gråbo, 443 40", None, ""),
    ("Postnummer 623 50", None, ""),
    ("Fritidsgården på Storgatan har öppet på kvällarna", None, ""),
    ("Samling vid torget 3 gånger i veckan", None, ""),
    ("\ufeffOro för skolfrånvaro\u200b i Gråbo… ”Vi ses” ½ dag", None, ""),
    ("\u200b\u200d\ufeff", None, ""),
    ("", None, ""),
]


@pytest.mark.parametrize(("text", "kind", "covered"), CASES, ids=[c[0][:40] for c in CASES])
def test_find_identifying(text: str, kind: str | None, covered: str) -> None:
    findings = find_identifying(text, today=TODAY)
    if kind is None:
        assert findings == []
        return
    assert [f.kind for f in findings] == [kind]
    finding = findings[0]
    assert text[finding.start : finding.end] == covered
    assert finding.msgid == MSGIDS[kind]


def test_at_least_forty_examples() -> None:
    assert len(CASES) >= 40
    assert sum(kind is None for _, kind, _ in CASES) >= 15


def test_personnummer_is_not_also_a_phone_number() -> None:
    # 050315-1235 is also a valid Swedish phone number to phonenumbers (area code 0503).
    findings = find_identifying(f"Eleven {CHILD_2005}, mamma 070-123 45 67")
    assert [f.kind for f in findings] == ["personnummer", "phone"]


def test_several_findings_in_text_order() -> None:
    text = "Ärende FOS-2026-017: tel 0701234567, pnr 811218-9876, mejl a@b.se"
    findings = find_identifying(text)
    assert [f.kind for f in findings] == ["phone", "personnummer", "email"]
    assert [text[f.start : f.end] for f in findings] == ["0701234567", "811218-9876", "a@b.se"]


def test_phone_inside_email_is_reported_once_as_email() -> None:
    assert [f.kind for f in find_identifying("anna.0701234567@example.se")] == ["email"]


def test_finding_is_frozen() -> None:
    finding = find_identifying("0701234567")[0]
    assert finding == Finding("phone", 0, 10, MSGIDS["phone"])
    with pytest.raises(AttributeError):
        finding.kind = "email"  # type: ignore[misc]


def test_msgids_are_distinct_friendly_sentences() -> None:
    assert set(MSGIDS) == {"personnummer", "samordningsnummer", "phone", "email", "address", "name"}
    assert len(set(MSGIDS.values())) == len(MSGIDS)
    for msgid in MSGIDS.values():
        assert msgid.startswith("This looks like ")
        assert msgid.endswith(".")
        assert "case reference" in msgid
        assert "{" not in msgid  # no format parameters: the msgid is used as is


def test_check_text_raises_with_field_and_msgid() -> None:
    with pytest.raises(IdentifyingDataRefused) as excinfo:
        check_text("Oro för barnet 811218-9876 i Gråbo", field="description")
    assert excinfo.value.field == "description"
    assert excinfo.value.msgid == MSGIDS["personnummer"]
    assert str(excinfo.value) == MSGIDS["personnummer"]


def test_check_text_reports_the_first_finding() -> None:
    with pytest.raises(IdentifyingDataRefused) as excinfo:
        check_text("Ring 070-123 45 67 eller mejla a@b.se", field="note")
    assert excinfo.value.msgid == MSGIDS["phone"]
    assert excinfo.value.field == "note"


@pytest.mark.parametrize("text", [None, "", "Oro för skolfrånvaro i Gråbo, FOS-2026-017"])
def test_check_text_passes_clean_text(text: str | None) -> None:
    check_text(text, field="description")


def test_check_fields_returns_every_field_with_a_finding() -> None:
    errors = check_fields(
        {
            "title": "Oro för skolfrånvaro i Gråbo",
            "description": "Pojken 701063-2391 har slutat komma",
            "contact": "Mamma nås på +46 70 123 45 67 eller mamma@example.se",
            "address": "Storgatan 12, 411 05 Göteborg",
            "note": None,
            "empty": "",
        }
    )
    assert errors == {
        "description": MSGIDS["samordningsnummer"],
        "contact": MSGIDS["phone"],
        "address": MSGIDS["address"],
    }


def test_check_fields_clean_is_empty() -> None:
    assert check_fields({}) == {}
    assert check_fields({"title": "FOS-2026-017", "note": None, "empty": ""}) == {}


def test_long_clean_text_with_many_numbers_passes() -> None:
    clean = (
        "Ärendet OSF-2026-101: oro för skolfrånvaro i Gråbo, 3 barn, 12 500 kr/mån. "
        "Möte 2026-12-03 kl 13:00-15:00 i rum 302, 17 ärenden 2020-2023, 45 %. "
    ) * 25
    assert find_identifying(clean[:3000]) == []
    pasted = clean.replace(" ", "\u00a0").replace("-", "\u2011").replace("ä", "a\u0308")
    assert find_identifying(pasted[:3000] + "\u200b") == []


def test_findings_point_into_the_text_as_typed() -> None:
    text = (
        "\ufeffÄrende FOS-2026-017: ½ dag, tel ０７０\u00ad１２３４５６７, "
        "pnr ８１１２１８ \u2013 ９８７６, mejl a\u200b@b.se, "
        "Kvarnva\u0308gen 3B, 448\u00a030 Floda"
    )
    findings = find_identifying(text, today=TODAY)
    assert [(f.kind, text[f.start : f.end]) for f in findings] == [
        ("phone", "０７０\u00ad１２３４５６７"),
        ("personnummer", "８１１２１８ \u2013 ９８７６"),
        ("email", "a\u200b@b.se"),
        ("address", "Kvarnva\u0308gen 3B, 448\u00a030"),
    ]


@pytest.mark.parametrize(
    "char",
    [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"],
    ids=lambda c: f"U+{ord(c):04X}",
)
def test_every_format_character_is_ignored(char: str) -> None:
    text = f"Pnr 811218{char}-98{char}76 i Gråbo"
    findings = find_identifying(text, today=TODAY)
    assert [(f.kind, text[f.start : f.end]) for f in findings] == [
        ("personnummer", f"811218{char}-98{char}76")
    ]


def test_characters_scanned_as_typed_are_normalised_already() -> None:
    # Text with only these characters skips normalisation (the quick path for clean text).
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if _SPECIAL_RE.match(char) is None:
            assert unicodedata.normalize("NFKC", char) == char, hex(code)
            assert not unicodedata.combining(char), hex(code)
            assert unicodedata.category(char) != "Cf", hex(code)


def test_quick_latin1_check_agrees_with_the_pattern() -> None:
    for code in range(0x100):
        text = f"Gråbo {chr(code)}"
        assert _has_specials(text) == (_SPECIAL_RE.search(text) is not None), hex(code)
    assert _has_specials("13.00–15.00 i Gråbo") is False
    assert _has_specials("Gråbo\u200b") is True


def test_future_birth_date_depends_on_today_not_the_wall_clock() -> None:
    # 261203-1530 has a valid check digit: before 3 December 2026 it is a date and a time.
    for text in ("Möte 2026-12-03-1530", "Möte 20261203-1530", "Möte 261203-1530"):
        assert find_identifying(text, today=date(2026, 12, 2)) == [], text
        assert [f.kind for f in find_identifying(text, today=date(2026, 12, 3))] == [
            "personnummer"
        ], text


def test_ten_digit_century_follows_today() -> None:
    # 000229: 29 February exists in 2000, not in 1900.
    leap_day = pnr("000229", "123")
    assert [f.kind for f in find_identifying(leap_day, today=date(2026, 1, 1))] == ["personnummer"]
    assert find_identifying(leap_day, today=date(2099, 12, 31)) != []
    assert find_identifying(leap_day, today=date(2100, 1, 1)) == []  # 2100 is no leap year
    # "+": 100 years or older, so 1900 as of 2026
    assert find_identifying(pnr("000229", "123", sep="+"), today=date(2026, 1, 1)) == []


def test_check_text_and_check_fields_pass_today_on() -> None:
    text = "Möte 2026-12-03-1530"
    check_text(text, field="note", today=date(2026, 12, 2))
    with pytest.raises(IdentifyingDataRefused):
        check_text(text, field="note", today=date(2026, 12, 3))
    assert check_fields({"note": text}, today=date(2026, 12, 2)) == {}
    assert check_fields({"note": text}, today=date(2026, 12, 3)) == {"note": MSGIDS["personnummer"]}

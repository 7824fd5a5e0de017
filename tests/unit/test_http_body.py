"""The bot's fast form decoding gives exactly what bolt's own (urllib) decoding gives."""

from __future__ import annotations

import json
import random
import string
from urllib.parse import parse_qsl, unquote_plus, urlencode

from handlers.http import decode_form, parse_body, unquote_form


def test_form_bodies_decode_as_urllib_decodes_them() -> None:
    rng = random.Random(18)
    alphabet = string.printable + "åäöÅÄÖ€\u2028 =&%+"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        body = urlencode({"payload": json.dumps({"text": text}), "k": text[:7]})
        assert decode_form(body) == dict(parse_qsl(body, keep_blank_values=True))
        assert parse_body(body, "application/x-www-form-urlencoded") == {"text": text}


def test_malformed_escapes_fall_back_to_urllib() -> None:
    rng = random.Random(10)
    for _ in range(20000):
        raw = "".join(rng.choice("%=+ \r\n3AaFfgz0") for _ in range(rng.randint(0, 12)))
        assert unquote_form(raw) == unquote_plus(raw), repr(raw)
    for odd in ("%", "%2", "%%3d", "a%zz", "=%3D", "%E2%82", "%C3%A5%"):
        assert unquote_form(odd) == unquote_plus(odd)

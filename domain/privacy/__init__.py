"""Privacy guard: refuse free text that contains what looks like personal data.

Every free-text field a user types passes through here before anything is stored or sent
(and the storage edge checks again, see :mod:`domain.privacy_wall`). The guard looks for:

* Swedish personal identity numbers (personnummer) and coordination numbers
  (samordningsnummer, day + 60), 10 or 12 digits, validated (a real date, not after
  ``today``, and the Luhn check digit); a 12-digit form starts with 19 or 20;
* Swedish (and international, written with ``+`` or ``00``) phone numbers, validated with
  ``phonenumbers``;
* e-mail addresses, also disguised (``namn(at)skola.se``, ``namn @ skola.se``,
  ``namn [at] skola [dot] se``, ``namn snabel-a skola punkt se``, ``namn@skola``);
* a street address: a street name with a common Swedish suffix and a house number
  (``Storgatan 12``, ``Kvarnvägen 3B, lgh 1102``, ``Gamla vägen 3``), read strictly so that
  ``vägen framåt``, ``på gatan 3 gånger``, ``skolvägen 5 min`` or ``Handlingsplan 2`` pass
  (see :mod:`domain.privacy.addresses`); with a Swedish postcode in the same text also
  abbreviated (``Storg. 12, 411 05``). A street name without a house number, or a postcode
  alone, is allowed;
* a person's name where the text says outright that a name follows: ``förnamn``,
  ``efternamn``, ``vid namn``, ``first name`` …; ``heter``/``kallas``/``named`` after a word
  for a child or a family member (``Pappa heter Anders``, ``en kille som heter Ali``);
  ``namn är``/``name is`` after such a word's possessive; ``heter`` before a first name and a
  surname (``heter Anders Svensson``). The next word must be capitalised then lowercase; a
  school, project or place that ``heter`` something passes (see :mod:`domain.privacy.names`).

Before scanning, the text is normalised, so disguises do not hide a number:

1. Unicode NFKC (full-width digits and dashes, no-break and thin spaces …), every Unicode
   decimal digit (Arabic-Indic, Devanagari, …) to 0–9, invisible format characters removed
   (zero-width space and joiners, soft hyphen, bidi controls …);
2. a right-to-left override (U+202E) shows its text reversed: such text is scanned in the
   order it is shown as well as the order it was typed; in right-to-left text (Hebrew,
   Arabic, RLE/RLI) the groups of a number are read in both orders;
3. letters that stand for digits inside a run of digits (``O``/``o`` for 0, ``l``/``I`` for
   1), when the run is not part of a word;
4. digits separated by any short run of separators (spaces, ``- – — / _ , : . ' | ( )``) are
   one *chain* of digit groups. A personnummer is a window of whole groups of the chain with
   10 or 12 digits: the date in one group or split at its parts (``12 03 15``, ``2012-03-15``,
   ``19 81 12 18``) or digit by digit, the last four in any groups; a window glued (no space)
   to more numbers of the same chain is a reference or a serial number, not a personnummer
   (``12-1981-12-18-9876``, ``1981-12-18-9876-2``). With only hyphens and spaces between its
   groups (or one ``+`` glued to the digits of a 10-digit number) the number may be cut
   anywhere: ``1701-102384``, ``P1701-102384``, ``17011 02384``. One ``+`` between the date
   and the last four is the 100-year separator, with or without spaces around it
   (``170110+2384``, ``170110 + 2384``). Phone numbers are read from
   the same chains, also across one or two short words (``070 ring 123 45 67``).

What passes (false positives stay rare): dates and times (``2026-12-03 13:00``: a date then a
time of day is never a personnummer), date and time ranges, case references (FOS-2026-017),
amounts (``12 500 kr``, ``811218,9876 kr``), week numbers, school classes, article and
organisation numbers, a birth date after ``today``, sums (``125 000 + 12 500``, ``1701 +
102384``, ``811218 + 9876 kr``: a ``+`` anywhere but between a whole date and the last four,
or an amount). A bare six-digit and four-digit number with ``+`` between them is read as the
number it may be (``811218 + 9876``): about one such sum in 140 is a valid number.

Every step is linear in the length of the text (a 100 kB text takes a few milliseconds, see
``bench/privacy_guard.py``), and every ``Finding`` points into the text as typed.

Only the standard library, ``phonenumbers`` and the domain errors are used: this module must
never depend on Slack or storage.

Parts: ``findings`` (what is reported), ``normalise`` (disguises undone, spans mapped back),
``numbers`` (digit chains, personnummer and samordningsnummer, phone numbers),
``addresses`` (e-mail and street addresses), ``names`` (person names), ``guard`` (the public
API below).
"""

from __future__ import annotations

from domain.privacy.findings import MSGIDS, Finding
from domain.privacy.guard import check_fields, check_text, find_identifying

__all__ = [
    "MSGIDS",
    "Finding",
    "check_fields",
    "check_text",
    "find_identifying",
]

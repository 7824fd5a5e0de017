"""Person names, caught only where the text says outright that a name follows.

A general name detector would refuse place, school and agency names ("Skolan heter
Gråboskolan", "Ekerö", "Polisen"), so this reads a few explicit patterns only, and only when
the next word looks like a name (capitalised, then lowercase: ``Anders``, ``Ali``,
``Eva-Lena``; an acronym such as ``FOSSAM`` or ``OSF`` is no person name):

* a name label that only people have: ``förnamn``, ``efternamn``, ``tilltalsnamn``,
  ``vid namn``, ``first name``, ``last name``, ``surname``, ``full name``
  (``Efternamn: Svensson``, ``en pojke vid namn Ali``);
* ``heter``, ``hette``, ``kallas``, ``med namnet``, ``named``, ``called`` after a word for a
  child or a family member (``Pappa heter Anders``, ``en kille som heter Ali``, ``hon heter
  Sara``, ``a boy named Ali``, ``her brother is called Sam``);
* ``namn`` / ``name`` (``:``, ``är``, ``is``) after such a word's possessive
  (``Elevens namn är Ali``, ``Pappans namn: Anders``, ``his name is Sam``);
* ``heter`` / ``hette`` / ``named`` / ``called`` after any word when a first name and a
  surname follow (``heter Anders Svensson``): the surname ends like most Swedish surnames
  (``-son``, ``-berg``, ``-ström``, ``-qvist`` …).

What passes: ``Skolan heter Gråboskolan``, ``Projektet heter Trygg Start``, ``Metoden kallas
Signs of Safety``, ``(tidigare kallade Flygande Ungdomsledare)``, ``Forumets namn: FOSSAM``,
a lowercase word after the pattern, and every name written without one of these patterns
(the minutes' lists of who attended). Professionals' titles (``Kuratorn heter …``) are not
family words: a professional's name is no detail about the child.
"""

from __future__ import annotations

import re
from typing import Final

from domain.privacy.findings import MSGIDS, Finding

# A name word: capitalised then lowercase (a double name with a hyphen).
_NAME: Final = r"[^\W\d_]{2,}(?:-[^\W\d_]{2,})?"
_SURNAME_ENDINGS: Final = (
    "son",
    "sson",
    "dotter",
    "berg",
    "borg",
    "ström",
    "qvist",
    "kvist",
    "quist",
    "lund",
    "gren",
    "blad",
    "dahl",
    "holm",
    "stedt",
    "ell",
    "ius",
    "bäck",
    "ander",
    "ovic",
    "ović",
    "ić",
    "ski",
    "sky",
    "oglu",
    "zadeh",
)

# Words for a child or a family member (and the pronouns for one), as the word before
# "heter"; a word ending in one of the family stems counts too ("styvpappan", "lillebror").
_PERSON_WORDS: Final = frozenset(
    [
        "han",
        "hon",
        "hen",
        "he",
        "she",
        "pojke",
        "pojken",
        "pojkar",
        "kille",
        "killen",
        "grabb",
        "grabben",
        "flicka",
        "flickan",
        "tjej",
        "tjejen",
        "barn",
        "barnet",
        "barnen",
        "elev",
        "eleven",
        "ungdom",
        "ungdomen",
        "tonåring",
        "tonåringen",
        "person",
        "personen",
        "pappa",
        "pappan",
        "mamma",
        "mamman",
        "far",
        "fadern",
        "mor",
        "modern",
        "förälder",
        "föräldern",
        "föräldrar",
        "vårdnadshavare",
        "vårdnadshavaren",
        "bror",
        "brodern",
        "brorsan",
        "syster",
        "systern",
        "syskon",
        "syskonet",
        "son",
        "sonen",
        "dotter",
        "dottern",
        "kusin",
        "kusinen",
        "faster",
        "moster",
        "farbror",
        "morbror",
        "mormor",
        "morfar",
        "farmor",
        "farfar",
        "kompis",
        "kompisen",
        "kamrat",
        "kamraten",
        "pojkvän",
        "pojkvännen",
        "flickvän",
        "flickvännen",
        "partner",
        "partnern",
        "sambo",
        "sambon",
        "boy",
        "girl",
        "child",
        "kid",
        "pupil",
        "student",
        "teenager",
        "youth",
        "person",
        "father",
        "mother",
        "dad",
        "mum",
        "mom",
        "parent",
        "guardian",
        "brother",
        "sister",
        "son",
        "daughter",
        "cousin",
        "aunt",
        "uncle",
        "friend",
        "boyfriend",
        "girlfriend",
        "partner",
        "stepfather",
        "stepmother",
    ]
)
_FAMILY_STEMS: Final = (
    "pappa",
    "pappan",
    "mamma",
    "mamman",
    "bror",
    "brodern",
    "syster",
    "systern",
    "father",
    "mother",
    "brother",
    "sister",
)
# Possessives before "namn" / "name".
_POSSESSIVES: Final = frozenset({"hans", "hennes", "hens", "his", "her", "their"})

# Words that may stand between the person word and the trigger.
_LINKS: Final = frozenset({"som", "is", "was", "är", "var", "who", "also", "även", "också"})

_LABEL_RE: Final = re.compile(
    r"(?<!\w)(?:förnamn(?:et)?|efternamn(?:et)?|tilltalsnamn(?:et)?|vid\s+namn"
    r"|first\s+name|last\s+name|surname|full\s+name)"
    r"\s*(?:[:=]\s*|(?:är|is)\s+)?"
    rf"(?P<name>{_NAME})",
    re.IGNORECASE,
)
_VERB_RE: Final = re.compile(
    r"(?<!\w)(?:heter|hette|kallas|kallades|med\s+namnet|named|called)\s+"
    rf"(?P<name>{_NAME})(?:\s+(?P<surname>{_NAME}))?",
    re.IGNORECASE,
)
_NAME_IS_RE: Final = re.compile(
    r"(?<!\w)(?:namn|namnet|name)\s*(?:[:=]\s*|(?:är|is|was|var)\s+)" rf"(?P<name>{_NAME})",
    re.IGNORECASE,
)
_WORD_RE: Final = re.compile(r"[^\W\d_]+(?:'s)?")
# Place-name words that open a two-word place ("Norra Strand"), never a first name.
_PLACE_WORDS: Final = frozenset(
    [
        "norra",
        "södra",
        "västra",
        "östra",
        "stora",
        "lilla",
        "gamla",
        "nya",
        "sankt",
        "övre",
        "nedre",
        "inre",
        "yttre",
    ]
)
# Capitalised words after a trigger that are no person's name: English days and months ("Dad
# was called Monday"), agencies and roles ("was called Police", "kallas Rektor"). The guard
# cannot see a forum's own agency names (it has no forum), so these are the common ones.
_NOT_NAMES: Final = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "today",
        "yesterday",
        "tomorrow",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "police",
        "school",
        "social",
        "services",
        "mentor",
        "teacher",
        "principal",
        "counsellor",
        "counselor",
        "nurse",
        "polisen",
        "skolan",
        "socialtjänsten",
        "elevhälsan",
        "rektor",
        "mentor",
        "kurator",
        "skolsköterskan",
        "bup",
    ]
)
_SURNAME_TRIGGERS: Final = frozenset({"heter", "hette", "named", "called"})


def _words_before(text: str, end: int, count: int = 3) -> list[str]:
    """Up to ``count`` words in the 60 characters before ``end``, nearest first, lowercase
    (a bounded window: a text of many triggers is still read in linear time)."""
    words = _WORD_RE.findall(text, max(0, end - 60), end)
    return [w.lower() for w in words[: -count - 1 : -1]]


def _subject(text: str, end: int) -> str | None:
    """The word the trigger at ``end`` speaks about, skipping "som", "is" and the like."""
    for word in _words_before(text, end):
        if word not in _LINKS:
            return word
    return None


def _is_person_word(word: str | None) -> bool:
    if word is None:
        return False
    return word in _PERSON_WORDS or word.endswith(_FAMILY_STEMS)


def _is_name(word: str) -> bool:
    """Capitalised then lowercase, each part of a double name (``Eva-Lena``, ``Hadžić``);
    checked here, as the ``re.IGNORECASE`` patterns take any word."""
    return all(part[:1].isupper() and part[1:].islower() for part in word.split("-"))


def _looks_like_surname(word: str | None) -> bool:
    return word is not None and _is_name(word) and word.lower().endswith(_SURNAME_ENDINGS)


_PASSIVE: Final = frozenset({"is", "was", "are", "were", "been", "be"})


def _about_a_person(text: str, start: int, trigger: str) -> bool:
    """Whether the trigger at ``start`` speaks of a child or a family member. English
    "called"/"named" only as a name, not as a verb: passive ("her brother is called Sam") or
    after "a"/"an" ("a boy named Ali"); "She called Anna" and "Mum called Social Services"
    tell who phoned whom."""
    if trigger not in ("called", "named"):
        return _is_person_word(_subject(text, start))
    words = _words_before(text, start, 4)
    if words and words[0] in _PASSIVE:
        return _is_person_word(next((w for w in words[1:] if w not in _LINKS), None))
    return len(words) >= 2 and words[1] in ("a", "an") and _is_person_word(words[0])


def _find_names(text: str) -> list[Finding]:
    lowered = text.lower()
    if not any(
        w in lowered for w in ("namn", "name", "heter", "hette", "kallas", "kallades", "called")
    ):
        return []
    found: list[Finding] = []
    for m in _LABEL_RE.finditer(text):
        if _is_name(m.group("name")) and m.group("name").lower() not in _NOT_NAMES:
            found.append(Finding("name", m.start(), m.end(), MSGIDS["name"]))
    for m in _VERB_RE.finditer(text):
        if not _is_name(m.group("name")) or m.group("name").lower() in _NOT_NAMES:
            continue
        surname = m.group("surname")
        end = m.end() if surname and _is_name(surname) else m.end("name")
        if _about_a_person(text, m.start(), m.group(0).split()[0].lower()) or (
            m.group(0).split()[0].lower() in _SURNAME_TRIGGERS
            and m.group("name").lower() not in _PLACE_WORDS
            and _looks_like_surname(surname)
        ):
            found.append(Finding("name", m.start(), end, MSGIDS["name"]))
    for m in _NAME_IS_RE.finditer(text):
        if not _is_name(m.group("name")) or m.group("name").lower() in _NOT_NAMES:
            continue
        before = _subject(text, m.start())
        if before is not None and (
            before in _POSSESSIVES
            or (before.endswith("s") and _is_person_word(before[:-1]))
            or (before.endswith("'s") and _is_person_word(before[:-2]))
        ):
            found.append(Finding("name", m.start(), m.end(), MSGIDS["name"]))
    return found

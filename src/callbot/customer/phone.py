"""Phone numbers of mainland China: validation, normalisation, carrier (运营商) and region (归属地).

Mobiles are checked with `phonenumbers`, once per 7-digit prefix (号段): validity, carrier and region are
properties of the prefix, so a million-row import asks the library a few thousand times, not a million.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import carrier as pn_carrier
from phonenumbers import geocoder as pn_geocoder
from phonenumbers.geodata import GEOCODE_DATA, GEOCODE_LONGEST_PREFIX

# A mobile's region is read from the library's table by prefix, at most 7 digits after the 86: all of a
# 7-digit prefix's numbers share one region only while the table holds no longer prefixes.
if GEOCODE_LONGEST_PREFIX > 9:
    raise ImportError("phonenumbers' geocoding table has prefixes longer than 9 digits: check _learn")

_STRIP = re.compile(r"[\s\-().]")
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_LANDLINE = re.compile(r"^0[1-9][0-9]{8,10}$")


class PhoneInfo(NamedTuple):  # a tuple: an import makes one per row
    number: str  # 13900001234, or a landline with its area code: 057188880001
    carrier: str
    region: str
    mobile: bool


class InvalidPhone(ValueError):
    """Not a number the robot can call."""


def normalise_phone(raw: object) -> PhoneInfo:
    """Validate and normalise a mainland China mobile or landline (with area code). Raises InvalidPhone."""
    if raw is None:
        raise InvalidPhone("the phone number is missing")
    text = str(raw).strip()
    if not text:
        raise InvalidPhone("the phone number is missing")
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)  # full-width digits and ＋ typed with a Chinese IME
    # Most rows hold a plain mobile: one match decides.
    digits = text if (plain := _MOBILE.match(text)) else _national_digits(text)
    if plain or _MOBILE.match(digits):
        prefix = _mobile_prefix(digits[:7])
        if prefix is None:
            raise InvalidPhone(f"{text!r} is not a valid mobile number (unassigned prefix {digits[:3]})")
        return PhoneInfo(digits, prefix[0], prefix[1], True)
    if _LANDLINE.match(digits):
        info = _landline(digits)
        if info is None:
            raise InvalidPhone(f"{text!r} is not a valid landline number (area code + 7 or 8 digits)")
        return info
    raise InvalidPhone(f"{text!r} is not a mainland China mobile or landline number with area code")


def _national_digits(text: str) -> str:
    """The digits as dialled inside China: separators, a float's ".0" and the +86/0086/86 prefix removed."""
    if text.endswith(".0"):
        text = text[:-2]  # spreadsheets turn numbers into floats: 13900001234.0
    digits = _STRIP.sub("", text)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            if not digits.startswith("1"):
                digits = "0" + digits  # +86 571 8888 0001 -> 057188880001
            return digits
    if len(digits) == 13 and digits.startswith("86") and _MOBILE.match(digits[2:]):
        return digits[2:]
    return digits


def _mobile_prefix(prefix7: str) -> tuple[str, str] | None:
    """Carrier and 归属地 of a mobile's 7-digit prefix (H码), or None when its block is unassigned."""
    try:
        return MOBILE_PREFIXES[prefix7]
    except KeyError:
        return _learn(prefix7)


# Carrier and 归属地 of every mobile prefix seen so far (None: unassigned). At most 700,000 prefixes exist;
# caching every one seen keeps a million-row import from asking the library more than once per prefix. The
# few distinct answers are shared, so an entry costs little more than its key.
MOBILE_PREFIXES: dict[str, tuple[str, str] | None] = {}


def _learn(prefix7: str) -> tuple[str, str] | None:
    """Ask once for a prefix: its own region when the table names one, else its 6-digit stem's answer."""
    try:
        answer = _PREFIX6[prefix7[:6]]
    except KeyError:
        answer = _learn_prefix6(prefix7[:6])
    if answer is not None:
        names = GEOCODE_DATA.get("86" + prefix7)  # the table's longest keys are the 7-digit prefixes
        if names is not None and (region := names.get("zh")) is not None:
            answer = _answer(answer[0], region)
    MOBILE_PREFIXES[prefix7] = answer
    return answer


# Answers of 6-digit stems (carrier, and the region of the longest shorter prefix the table names): the ten
# 7-digit prefixes of a stem share them unless the table names their own region, so the slower part of a
# look-up is done once per stem.
_PREFIX6: dict[str, tuple[str, str] | None] = {}


def _learn_prefix6(prefix6: str) -> tuple[str, str] | None:
    valid, carrier = _mobile_block(prefix6[:5])
    answer = _answer(carrier, _stem_region("86" + prefix6) or _country_name()) if valid else None
    _PREFIX6[prefix6] = answer
    return answer


def _answer(carrier: str, region: str) -> tuple[str, str]:
    """The shared tuple for an answer: a million customers hold a few hundred distinct ones."""
    key = (carrier, region)
    return _ANSWERS.setdefault(key, key)


def plain_mobile(text: str) -> tuple[str, str] | None:
    """(carrier, 归属地) of `text` when it is already a normalised, valid mobile (the common row), in a
    dictionary look-up or two; None means "ask normalise_phone", which also explains what is wrong."""
    if len(text) != 11 or not (text.isascii() and text.isdigit()) or text[1] < "3" or text[0] != "1":
        return None
    try:
        return MOBILE_PREFIXES[text[:7]]
    except KeyError:
        return _learn(text[:7])


def _stem_region(stem: str) -> str | None:
    """The Chinese name of the longest prefix of `stem` ("86" and 6 digits) that the table names, as the
    library's geocoder finds it (which spends some 20 µs a number, too slow for a million rows); None where it
    names none (the geocoder then names the country)."""
    for length in (8, 7):
        names = GEOCODE_DATA.get(stem[:length])
        if names is not None and (name := names.get("zh")) is not None:
            return name
    # Shorter prefixes are few: look them up in their own short list rather than probe every length.
    return next((name for prefix, name in _SHORT_CN_PREFIXES if stem.startswith(prefix)), None)


def _short_mobile_prefixes() -> list[tuple[str, str]]:
    """The table's Chinese names of prefixes shorter than 7 digits that a mobile (+86 1…) can start with,
    longest first: a handful."""
    candidates = [f"861{n:0{digits}d}" for digits in (3, 2, 1) for n in range(10**digits)] + ["861", "86", "8"]
    return [(k, names["zh"]) for k in candidates if (names := GEOCODE_DATA.get(k)) is not None and "zh" in names]


_SHORT_CN_PREFIXES = _short_mobile_prefixes()


_ANSWERS: dict[tuple[str, str], tuple[str, str]] = {}


@cache
def _country_name() -> str:
    """What the geocoder says of a mobile whose prefix has no region: the country's name."""
    number = phonenumbers.PhoneNumber(country_code=86, national_number=13_900_000_000)
    return str(pn_geocoder.country_name_for_number(number, "zh"))


@cache
def _mobile_block(prefix5: str) -> tuple[bool, str]:
    """Validity and carrier are fixed by the first digits of a mobile (at most 100,000 blocks)."""
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(prefix5 + "000000"))
    if not phonenumbers.is_valid_number(number):
        return False, ""
    return True, pn_carrier.name_for_valid_number(number, "zh")


@lru_cache(maxsize=20_000)
def _landline(digits: str) -> PhoneInfo | None:
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return PhoneInfo(digits, "", pn_geocoder.description_for_number(number, "zh"), False)


def area_code(number: str) -> str:
    """The area code of a normalised landline ("0571"), or "" for a mobile."""
    if not number.startswith("0"):
        return ""
    try:
        parsed = phonenumbers.parse(number, "CN")
    except phonenumbers.NumberParseException:
        return ""
    length = phonenumbers.length_of_geographical_area_code(parsed)
    return "0" + str(parsed.national_number)[:length] if length else ""

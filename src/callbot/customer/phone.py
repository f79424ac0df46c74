"""Phone numbers of mainland China: validation, normalisation, carrier (运营商) and region (归属地).

Mobiles are checked with `phonenumbers`, once per 7-digit prefix (号段): validity, carrier and region are
properties of the prefix, so a million-row import asks the library a few thousand times, not a million.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import phonenumbers
from phonenumbers import carrier as pn_carrier
from phonenumbers import geocoder as pn_geocoder

_STRIP = re.compile(r"[\s\-().]")
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_LANDLINE = re.compile(r"^0[1-9][0-9]{8,10}$")


@dataclass(frozen=True, slots=True)
class PhoneInfo:
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
    digits = text if _MOBILE.match(text) else _national_digits(text)  # most rows hold a plain mobile
    if _MOBILE.match(digits):
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


@cache
def _mobile_prefix(prefix7: str) -> tuple[str, str] | None:
    """Carrier and 归属地 of a mobile's 7-digit prefix (H码), or None when its block is unassigned.

    At most 700,000 prefixes exist; caching every one seen keeps a million-row import from asking the
    library more than once per prefix. The few distinct answers are shared, so an entry costs little more
    than its key."""
    valid, carrier = _mobile_block(prefix7[:5])
    if not valid:
        return None
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(prefix7 + "0000"))
    answer = (carrier, str(pn_geocoder.description_for_valid_number(number, "zh")))
    return _ANSWERS.setdefault(answer, answer)


_ANSWERS: dict[tuple[str, str], tuple[str, str]] = {}


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

"""Mainland China numbers: validated, normalised, with carrier and region."""

from __future__ import annotations

import pytest

from callbot.customer.phone import InvalidPhone, area_code, normalise_phone, plain_mobile


@pytest.mark.parametrize(
    "raw",
    [
        "13900001234",
        "139 0000 1234",
        "139-0000-1234",
        "+86 139 0000 1234",
        "8613900001234",
        "008613900001234",
        "13900001234.0",
    ],
)
def test_mobile_forms_normalise_to_eleven_digits(raw: str) -> None:
    info = normalise_phone(raw)
    assert info.number == "13900001234"
    assert info.mobile
    assert info.carrier == "中国移动"
    assert info.region  # 归属地 from the number's prefix


@pytest.mark.parametrize(
    ("raw", "number", "region"),
    [
        ("0571-88880001", "057188880001", "浙江省杭州市"),
        ("010 12345678", "01012345678", "北京市"),
        ("+86 21 1234 5678", "02112345678", "上海市"),
    ],
)
def test_landlines_keep_their_area_code(raw: str, number: str, region: str) -> None:
    info = normalise_phone(raw)
    assert (info.number, info.region, info.mobile) == (number, region, False)
    assert area_code(number) == number[: len(area_code(number))]


@pytest.mark.parametrize(
    "raw", ["", "12345", "1390000123", "139000012345", "14012345678", "4001234567", "abc", "88880001"]
)
def test_bad_numbers_are_refused_with_the_number_named(raw: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalise_phone(raw)
    assert raw in str(caught.value) or "missing" in str(caught.value)


def test_numbers_of_one_prefix_share_carrier_and_region_but_keep_their_own_digits() -> None:
    first, second = normalise_phone("13912345678"), normalise_phone("+86 139-1234-0001")
    assert (first.number, second.number) == ("13912345678", "13912340001")
    assert (first.carrier, first.region) == (second.carrier, second.region) == ("中国移动", first.region)
    assert first.region


@pytest.mark.parametrize("raw", ["16112345678", "17412345678", "14912345678"])
def test_a_mobile_in_an_unassigned_block_is_refused(raw: str) -> None:
    with pytest.raises(InvalidPhone, match="unassigned prefix"):
        normalise_phone(raw)


def test_full_width_digits_typed_with_a_chinese_ime_are_read_as_digits() -> None:
    assert normalise_phone("１３９００００１２３４").number == "13900001234"
    assert normalise_phone("＋８６ １３９ ００００ １２３４").number == "13900001234"


def test_other_scripts_digits_are_not_phone_numbers() -> None:
    with pytest.raises(InvalidPhone):
        normalise_phone("١٣٩٠٠٠٠١٢٣٤")  # Arabic-Indic digits


def test_the_region_and_carrier_of_a_mobile_prefix_are_the_librarys() -> None:
    """The prefix table is read directly for speed; it must give what the library's geocoder gives."""
    import random

    import phonenumbers
    from phonenumbers import carrier, geocoder

    rng = random.Random(7)
    prefixes = [f"{rng.choice((130, 135, 139, 147, 150, 166, 170, 177, 186, 191, 199))}{rng.randrange(10_000):04d}"]
    prefixes += [f"1{rng.randrange(30, 100)}{rng.randrange(10_000):04d}" for _ in range(3000)]
    compared = 0
    for prefix in prefixes:
        number = phonenumbers.PhoneNumber(country_code=86, national_number=int(prefix + "0000"))
        if not phonenumbers.is_valid_number(number):
            continue
        assert plain_mobile(prefix + "0000") == (
            carrier.name_for_valid_number(number, "zh"),
            geocoder.description_for_valid_number(number, "zh"),
        ), prefix
        compared += 1
    assert compared > 1000

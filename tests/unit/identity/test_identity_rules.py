"""The rules behind registration and staff sign-in, without servers."""

from __future__ import annotations

from datetime import date

import pyotp
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app.auth.phone import canonical_phone
from app.auth.throttle import account_of
from app.auth.totp import accepted_step
from app.citizens.identity import (
    ID_BIRTH_MISMATCH,
    ID_NOT_12_DIGITS,
    ID_UNKNOWN_PROVINCE,
    PROVINCE_CODES,
    age_on,
    birthday_at_age,
    national_id_for,
    national_id_mismatch,
)
from app.citizens.passwords import common_passwords, password_problem


@pytest.mark.parametrize(
    ("national_id", "born", "problem"),
    [
        ("001090012345", date(1990, 3, 4), None),  # Hà Nội, man, 1990
        ("079195000001", date(1995, 12, 31), None),  # Hồ Chí Minh City, woman, 1995
        ("096212345678", date(2012, 1, 1), None),  # Cà Mau, boy, 2012
        ("048301000000", date(2001, 6, 1), None),  # Đà Nẵng, girl, 2001
        ("003090012345", date(1990, 3, 4), ID_UNKNOWN_PROVINCE),  # 003 is no province
        ("099090012345", date(1990, 3, 4), ID_UNKNOWN_PROVINCE),
        ("001091012345", date(1990, 3, 4), ID_BIRTH_MISMATCH),  # year digits 91, born 1990
        ("001290012345", date(1990, 3, 4), ID_BIRTH_MISMATCH),  # century digit 2 means 2000s
        ("001190012345", date(2090, 3, 4), ID_BIRTH_MISMATCH),
        ("00109001234", date(1990, 3, 4), ID_NOT_12_DIGITS),
        ("00109001234x", date(1990, 3, 4), ID_NOT_12_DIGITS),
    ],
)
def test_national_id_agrees_with_province_and_birth(national_id: str, born: date, problem: object) -> None:
    assert national_id_mismatch(national_id, born) is problem


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    province=st.sampled_from(sorted(PROVINCE_CODES)),
    female=st.booleans(),
    serial=st.integers(0, 999_999),
)
# 2000 is a leap year and 2100 is not: the same day a century later does not exist.
@example(born=date(2000, 2, 29), province="001", female=True, serial=0)
def test_every_generated_id_is_valid_for_its_birth_date(born: date, province: str, female: bool, serial: int) -> None:
    national_id = national_id_for(born, province, female, serial)
    assert len(national_id) == 12
    assert national_id_mismatch(national_id, born) is None
    # And a different century never passes (the first of the month: 29 February may not exist there).
    other_century = date(born.year + 100 if born.year < 2000 else born.year - 100, born.month, 1)
    assert national_id_mismatch(national_id, other_century) is not None


def test_there_are_63_province_codes() -> None:
    assert len(PROVINCE_CODES) == 63 and {"001", "079", "096"} <= PROVINCE_CODES


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("0912345678", "+84912345678"),
        ("+84912345678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("091 234 5678", "+84912345678"),
        ("0312.345.678", "+84312345678"),
        ("0212345678", None),  # a landline prefix
        ("091234567", None),
        ("+1912345678", None),
    ],
)
def test_one_canonical_form_for_vietnamese_mobiles(raw: str, canonical: str | None) -> None:
    assert canonical_phone(raw) == canonical


def test_ages_count_completed_years() -> None:
    assert age_on(date(2012, 5, 10), date(2026, 5, 9)) == 13
    assert age_on(date(2012, 5, 10), date(2026, 5, 10)) == 14
    assert birthday_at_age(date(2012, 2, 29), 14) == date(2026, 3, 1)
    assert age_on(date(2012, 2, 29), date(2026, 2, 28)) == 13


def test_the_shipped_list_is_large_lowercase_and_known() -> None:
    listed = common_passwords()
    assert len(listed) > 5000
    assert all(p == p.lower() for p in listed)
    assert {"123456", "password", "iloveyou", "anhyeuem", "qwerty123456"} <= listed


@pytest.mark.parametrize(
    "password",
    ["short", "qwerty123456", "QWERTY123456", "Password1234", "password 1234", "  iloveyou123456  ", "matkhau123456"],
)
def test_short_or_common_passwords_are_refused(password: str) -> None:
    assert password_problem(password) is not None


def test_a_password_holding_the_own_id_or_phone_is_refused() -> None:
    assert password_problem("my id 001090012345", "001090012345", "+84912345678") is not None
    assert password_problem("call me 0912345678", "001090012345", "+84912345678") is not None
    assert password_problem("correct horse battery staple", "001090012345", "+84912345678") is None


def test_totp_codes_are_taken_for_the_current_step_and_its_neighbours_only() -> None:
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    now = 1_800_000_000.0
    step = int(now // 30)
    assert accepted_step(secret, totp.at(now), now) == step
    assert accepted_step(secret, totp.at(now - 30), now) == step - 1
    assert accepted_step(secret, totp.at(now + 30), now) == step + 1
    assert accepted_step(secret, totp.at(now - 90), now) is None
    assert accepted_step(secret, "12345", now) is None
    assert accepted_step(secret, "abcdef", now) is None


def test_one_throttle_key_per_account_however_it_is_typed() -> None:
    assert account_of("citizen", "0912345678") == account_of("citizen", " +84912345678 ")
    assert account_of("citizen", "001090012345") != account_of("staff", "001090012345")

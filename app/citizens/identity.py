"""Checks on the identity facts a citizen gives: ID number and age (the mobile number: app/auth/phone.py).

The 12-digit personal identification number (Circular 59/2021/TT-BCA) reads
`PPP G YY NNNNNN`: the province of birth registration, a digit for century and sex
(0/1 born 1900-1999 male/female, 2/3 2000-2099, 4/5 2100-2199, ...), the last two digits
of the birth year, then six random digits.
"""

from __future__ import annotations

from datetime import date

from app.errors import Text

# The 63 province and city codes of the ID number (Hà Nội 001 … Cà Mau 096).
_PROVINCES = (
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 035 036 037 038 "
    "040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 070 072 074 075 077 079 080 082 "
    "083 084 086 087 089 091 092 093 094 095 096"
)
PROVINCE_CODES = frozenset(_PROVINCES.split())

ID_NOT_12_DIGITS = Text(
    "Số định danh cá nhân phải gồm đúng 12 chữ số.", "The national ID number must be exactly 12 digits."
)
ID_UNKNOWN_PROVINCE = Text(
    "Ba chữ số đầu của số định danh không phải mã tỉnh, thành phố nào. Hãy kiểm tra lại trên thẻ căn cước.",
    "The first three digits of the national ID number are not a province code. Check the number on the ID card.",
)
ID_BIRTH_MISMATCH = Text(
    "Số định danh không khớp với năm sinh (chữ số thứ 4 chỉ thế kỷ, chữ số thứ 5-6 là năm sinh). Hãy kiểm tra lại "
    "số định danh và ngày sinh.",
    "The national ID number does not match the year of birth (digit 4 gives the century, digits 5-6 the year). "
    "Check the ID number and the date of birth.",
)


def national_id_problem(national_id: str) -> bool:
    """True when the value cannot be a citizen ID number (12 digits)."""
    return not (len(national_id) == 12 and national_id.isdigit())


def national_id_mismatch(national_id: str, date_of_birth: date) -> Text | None:
    """What is wrong with an ID number given the holder's date of birth, or None."""
    if national_id_problem(national_id):
        return ID_NOT_12_DIGITS
    if national_id[:3] not in PROVINCE_CODES:
        return ID_UNKNOWN_PROVINCE
    century = 19 + int(national_id[3]) // 2
    if date_of_birth.year // 100 != century or date_of_birth.year % 100 != int(national_id[4:6]):
        return ID_BIRTH_MISMATCH
    return None


def national_id_for(date_of_birth: date, province: str = "001", female: bool = False, serial: int = 0) -> str:
    """An ID number that agrees with a date of birth (the demo data and tests make them)."""
    century_digit = (date_of_birth.year // 100 - 19) * 2 + (1 if female else 0)
    return f"{province}{century_digit}{date_of_birth.year % 100:02d}{serial:06d}"


def age_on(date_of_birth: date, today: date) -> int:
    """Completed years: a person born on 29 February turns a year older on 1 March."""
    before_birthday = (today.month, today.day) < (date_of_birth.month, date_of_birth.day)
    return today.year - date_of_birth.year - (1 if before_birthday else 0)


def birthday_at_age(date_of_birth: date, age: int) -> date:
    """The day a person turns `age` (1 March for someone born on 29 February)."""
    try:
        return date_of_birth.replace(year=date_of_birth.year + age)
    except ValueError:
        return date(date_of_birth.year + age, 3, 1)


def mask(value: str, keep: int = 3) -> str:
    """Show only the last `keep` characters, for places that must not show the whole value."""
    return "*" * max(len(value) - keep, 0) + value[-keep:]

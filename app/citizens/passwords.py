"""The password rules: long enough, not a known common or breached password, not the
holder's own ID or phone number. Stored with argon2id (app/security.py)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import models
from app.errors import FieldProblem, Text

MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS_FILE = Path(models.__file__).parent / "data" / "common_passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list (lowercase, one a line), read once per process."""
    return frozenset(line.strip() for line in COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines() if line)


def _squeezed(value: str) -> str:
    return "".join(value.lower().split())


def password_problem(password: str, *own_numbers: str, field: str = "password") -> FieldProblem | None:
    """Why `password` may not be used, or None. `own_numbers`: the holder's ID and phone."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return FieldProblem(
            field,
            Text("Mật khẩu phải có ít nhất {n} ký tự.", "The password must have at least {n} characters."),
            {"n": MIN_PASSWORD_LENGTH},
        )
    listed = common_passwords()
    # "Password 1234" and "password1234" are the same guess to an attacker.
    if password.lower().strip() in listed or _squeezed(password) in listed:
        return FieldProblem(
            field,
            Text(
                "Mật khẩu này quá phổ biến hoặc đã bị lộ trong các vụ rò rỉ dữ liệu. Hãy chọn một cụm vài từ mà "
                "người khác khó đoán.",
                "This password is too common or has appeared in data breaches. Choose a phrase of a few words "
                "others would not guess.",
            ),
        )
    squeezed = _squeezed(password)
    for number in own_numbers:
        digits = number.removeprefix("+84")
        if len(digits) >= 6 and digits in squeezed:
            return FieldProblem(
                field,
                Text(
                    "Mật khẩu không được chứa số định danh hay số điện thoại của bạn.",
                    "The password must not contain your ID number or phone number.",
                ),
            )
    return None

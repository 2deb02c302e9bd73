"""RFC 8785 canonical JSON: the bytes a document's signature covers must be the same on every
machine and in every language, so they are tested against the RFC's own examples."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.wallet.signing import canonical_json


def test_the_rfc_8785_example() -> None:
    # RFC 8785, section 3.2.2, input and output.
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(json.loads(source)) == expected.encode()


def test_members_are_ordered_by_utf16_code_units() -> None:
    # RFC 8785, section 3.2.3: U+1F600 sorts before U+FB33 in UTF-16, after it by code point.
    keys = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"]
    ordered = list(json.loads(canonical_json({k: 0 for k in keys})))
    assert ordered == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (0.1, "0.1"),
        (-1.5, "-1.5"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (123456789012345680000.0, "123456789012345680000"),
        (2.0, "2"),
    ],
)
def test_numbers_are_written_as_ecmascript_does(number: float, text: str) -> None:
    assert canonical_json(number) == text.encode()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 2**1024, {1: "x"}, b"bytes"])
def test_values_without_a_canonical_form_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="canonical"):
        canonical_json(value)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_is_json_and_a_fixed_point(value: Any) -> None:
    once = canonical_json(value)
    parsed = json.loads(once)
    assert canonical_json(parsed) == once
    # The same value back, up to what doubles hold (RFC 8785 numbers are IEEE doubles).
    assert json.loads(json.dumps(value), parse_int=float) == json.loads(once, parse_int=float)

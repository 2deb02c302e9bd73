"""The provinces a procedure can be filed in: Vietnam's 34 provincial units since 1 July 2025,
by their two-digit administrative code (Hà Nội 01 … Cà Mau 96).

Not the three-digit codes that open a national ID number (app/citizens/identity.py): those
name where a birth was registered, among the 63 provinces of the time.
"""

from __future__ import annotations

import unicodedata

PROVINCES: dict[str, str] = {
    "01": "Hà Nội",
    "04": "Cao Bằng",
    "08": "Tuyên Quang",
    "11": "Điện Biên",
    "12": "Lai Châu",
    "14": "Sơn La",
    "15": "Lào Cai",
    "19": "Thái Nguyên",
    "20": "Lạng Sơn",
    "22": "Quảng Ninh",
    "24": "Bắc Ninh",
    "25": "Phú Thọ",
    "31": "Hải Phòng",
    "33": "Hưng Yên",
    "37": "Ninh Bình",
    "38": "Thanh Hóa",
    "40": "Nghệ An",
    "42": "Hà Tĩnh",
    "44": "Quảng Trị",
    "46": "Huế",
    "48": "Đà Nẵng",
    "51": "Quảng Ngãi",
    "52": "Gia Lai",
    "56": "Khánh Hòa",
    "66": "Đắk Lắk",
    "68": "Lâm Đồng",
    "75": "Đồng Nai",
    "79": "Hồ Chí Minh",
    "80": "Tây Ninh",
    "82": "Đồng Tháp",
    "86": "Vĩnh Long",
    "91": "An Giang",
    "92": "Cần Thơ",
    "96": "Cà Mau",
}

# What an address may put before the name: "Tỉnh Gia Lai", "Thành phố Huế", "TP. Hồ Chí Minh".
_PREFIXES = ("thanh pho ", "tinh ", "tp. ", "tp.", "tp ")


def _plain(text: str) -> str:
    """Lower case without diacritics (đ → d), single spaces: "TP. Hồ Chí Minh" → "tp. ho chi minh"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(stripped.lower().split())


# The provinces merged whole into another on 1 July 2025: an address may still name them.
FORMER_PROVINCES: dict[str, str] = {
    "Hà Giang": "08",
    "Yên Bái": "15",
    "Bắc Kạn": "19",
    "Bắc Giang": "24",
    "Vĩnh Phúc": "25",
    "Hòa Bình": "25",
    "Hải Dương": "31",
    "Thái Bình": "33",
    "Hà Nam": "37",
    "Nam Định": "37",
    "Quảng Bình": "44",
    "Thừa Thiên Huế": "46",
    "Quảng Nam": "48",
    "Kon Tum": "51",
    "Bình Định": "52",
    "Ninh Thuận": "56",
    "Phú Yên": "66",
    "Đắk Nông": "68",
    "Bình Thuận": "68",
    "Bình Phước": "75",
    "Bình Dương": "79",
    "Bà Rịa - Vũng Tàu": "79",
    "Bà Rịa Vũng Tàu": "79",
    "Long An": "80",
    "Tiền Giang": "82",
    "Bến Tre": "86",
    "Trà Vinh": "86",
    "Kiên Giang": "91",
    "Sóc Trăng": "92",
    "Hậu Giang": "92",
    "Bạc Liêu": "96",
}

_BY_NAME = (
    {_plain(name): code for code, name in PROVINCES.items()}
    | {_plain(name): code for name, code in FORMER_PROVINCES.items()}
    | {"hanoi": "01", "ho chi minh city": "79", "hcm": "79", "sai gon": "79"}
)


def label(code: str) -> str:
    """ "01 (Hà Nội)"."""
    return f"{code} ({PROVINCES[code]})" if code in PROVINCES else code


def province_of_address(address: str | None) -> str | None:
    """The province an address ends with ("…, Phường Ba Đình, Hà Nội" → "01"; a province merged
    in 2025 counts as the one it joined), or None when its last part names none."""
    if not address or "," not in address:
        return None
    last = _plain(address.rsplit(",", 1)[1]).rstrip(".")
    for prefix in _PREFIXES:
        if last.startswith(prefix):
            last = last.removeprefix(prefix).strip()
            break
    return _BY_NAME.get(last)

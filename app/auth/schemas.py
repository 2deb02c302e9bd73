from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

NonEmpty = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class LoginIn(msgspec.Struct, forbid_unknown_fields=False):
    username: NonEmpty
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    # The `device_token` this device got at its last sign-in, if any: with it, strangers'
    # failed guesses on the account do not hold this device back (decision 0018).
    device_token: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class RefreshIn(msgspec.Struct):
    refresh_token: NonEmpty


class TokenPair(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: Literal["Bearer"] = "Bearer"


class SignedIn(TokenPair, kw_only=True):
    """A citizen's sign-in: the token pair, and this device's known-device token to keep and send
    with the next sign-ins."""

    device_token: str


class ClientCredentialsIn(msgspec.Struct):
    client_id: NonEmpty
    client_secret: NonEmpty


class AccessToken(msgspec.Struct):
    access_token: str
    expires_in: int
    token_type: Literal["Bearer"] = "Bearer"


class StaffLoginIn(msgspec.Struct):
    username: NonEmpty
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    # The current 6-digit code of the staff member's authenticator app (TOTP).
    otp: Annotated[str, msgspec.Meta(max_length=16)] | None = None


class SessionOut(msgspec.Struct):
    """One signed-in device."""

    id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str | None
    current: bool


class RotatedSecretOut(msgspec.Struct):
    client_id: str
    client_secret: str
    # Until then the previous secret also works, so every server can switch over.
    previous_secret_valid_until: datetime

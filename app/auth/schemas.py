from __future__ import annotations

from typing import Annotated, Literal

import msgspec

NonEmpty = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class LoginIn(msgspec.Struct, forbid_unknown_fields=False):
    username: NonEmpty
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class RefreshIn(msgspec.Struct):
    refresh_token: NonEmpty


class TokenPair(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: Literal["Bearer"] = "Bearer"


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

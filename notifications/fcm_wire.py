"""FCM HTTP v1 on the wire: error bodies and the send request's shape.

Shared by the sender (to read FCM's errors) and the local emulator (to write them and to
refuse what real FCM would refuse), so the two cannot drift apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"

# FCM errorCode → (HTTP status, google.rpc status, message), as FCM answers them.
FCM_ERRORS: Mapping[str, tuple[int, str, str]] = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "INVALID_ARGUMENT": (
        400,
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
    ),
    "QUOTA_EXCEEDED": (
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Messages' and limit 'Messages per minute'.",
    ),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
}

# FCM's payload limit for data + notification, in bytes.
MAX_PAYLOAD_BYTES = 4096
APNS_COLLAPSE_ID_MAX_BYTES = 64
_RESERVED_DATA_KEYS = frozenset({"from", "message_type"})
_RESERVED_DATA_PREFIXES = ("google", "gcm")
_TTL = re.compile(r"^\d+(\.\d{1,9})?s$")

_TOP_LEVEL = frozenset({"message", "validate_only"})
_MESSAGE_FIELDS = frozenset(
    {"name", "token", "fid", "topic", "condition", "data", "notification", "android", "apns", "webpush", "fcm_options"}
)
_NOTIFICATION_FIELDS = frozenset({"title", "body", "image"})
_ANDROID_FIELDS = frozenset(
    {
        "collapse_key",
        "priority",
        "ttl",
        "restricted_package_name",
        "data",
        "notification",
        "fcm_options",
        "direct_boot_ok",
        "bandwidth_constrained_ok",
        "restricted_satellite_ok",
    }
)
_APNS_FIELDS = frozenset({"headers", "payload", "fcm_options", "live_activity_token"})
_TARGETS = ("token", "fid", "topic", "condition")


class FcmErrorInfo(msgspec.Struct, frozen=True):
    """The parts of an FCM error body that decide what to do next."""

    status: str | None = None
    fcm_code: str | None = None
    # Fields named by a google.rpc.BadRequest detail ("message.data[0].value", ...).
    fields: tuple[str, ...] = ()


class Violation(msgspec.Struct, frozen=True):
    """Why a send request is malformed: the field and a human description."""

    field: str
    description: str


def error_body(
    http_status: int,
    status: str,
    message: str,
    *,
    fcm_code: str | None = None,
    violations: Sequence[Violation] = (),
) -> dict[str, Any]:
    """An error body in the google.rpc format FCM uses."""
    details: list[dict[str, Any]] = []
    if fcm_code is not None:
        details.append({"@type": FCM_ERROR_TYPE, "errorCode": fcm_code})
    if violations:
        details.append(
            {
                "@type": BAD_REQUEST_TYPE,
                "fieldViolations": [{"field": v.field, "description": v.description} for v in violations],
            }
        )
    error: dict[str, Any] = {"code": http_status, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


def fcm_error_body(fcm_code: str) -> tuple[int, dict[str, Any]]:
    """HTTP status and body for one of FCM's error codes."""
    http_status, status, message = FCM_ERRORS[fcm_code]
    return http_status, error_body(http_status, status, message, fcm_code=fcm_code)


def parse_error(content: bytes | str) -> FcmErrorInfo:
    """Read status, FCM errorCode and BadRequest fields from an error body; tolerant."""
    try:
        data = json.loads(content)
    except ValueError:
        return FcmErrorInfo()
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return FcmErrorInfo()
    status = error.get("status") if isinstance(error.get("status"), str) else None
    fcm_code: str | None = None
    fields: list[str] = []
    details = error.get("details")
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, dict):
            continue
        if detail.get("@type") == FCM_ERROR_TYPE and isinstance(detail.get("errorCode"), str):
            fcm_code = detail["errorCode"]
        elif detail.get("@type") == BAD_REQUEST_TYPE:
            for violation in detail.get("fieldViolations") or []:
                if isinstance(violation, dict) and isinstance(violation.get("field"), str):
                    fields.append(violation["field"])
    return FcmErrorInfo(status=status, fcm_code=fcm_code, fields=tuple(fields))


# --- request shape (what the emulator refuses with 400 INVALID_ARGUMENT) ------------------


def check_send_request(body: object) -> Violation | None:
    """The first reason real FCM would refuse this send request body, or None."""
    if not isinstance(body, dict):
        return Violation("", "Invalid JSON payload received. Expected an object.")
    if (bad := _unknown_field(body, _TOP_LEVEL, "")) is not None:
        return bad
    if "validate_only" in body and not isinstance(body["validate_only"], bool):
        return _type_error("validate_only", "TYPE_BOOL", body["validate_only"])
    message = body.get("message")
    if not isinstance(message, dict):
        return Violation("message", "Request contains an invalid argument: message is required.")
    return _check_message(message)


def _check_message(message: dict[str, Any]) -> Violation | None:
    if (bad := _unknown_field(message, _MESSAGE_FIELDS, "message")) is not None:
        return bad
    targets = [t for t in _TARGETS if t in message]
    if len(targets) != 1:
        return Violation(
            "message", "Exactly one of message.token, message.fid, message.topic or message.condition must be set."
        )
    target = targets[0]
    if not isinstance(message[target], str) or not message[target]:
        return _type_error(f"message.{target}", "TYPE_STRING", message[target])
    checks = (
        _string_map(message.get("data"), "message.data", data_keys=True),
        _check_notification(message.get("notification")),
        _check_android(message.get("android")),
        _check_apns(message.get("apns")),
        _object_or_absent(message.get("webpush"), "message.webpush"),
        _object_or_absent(message.get("fcm_options"), "message.fcm_options"),
    )
    for violation in checks:
        if violation is not None:
            return violation
    size = len(json.dumps({k: message.get(k) for k in ("data", "notification")}).encode())
    if size > MAX_PAYLOAD_BYTES:
        return Violation("message", f"Message is too big: {size} bytes (limit 4096).")
    return None


def _check_notification(notification: object) -> Violation | None:
    if notification is None:
        return None
    if not isinstance(notification, dict):
        return _type_error("message.notification", "TYPE_MESSAGE", notification)
    if bad := _unknown_field(notification, _NOTIFICATION_FIELDS, "message.notification"):
        return bad
    for key, value in notification.items():
        if not isinstance(value, str):
            return _type_error(f"message.notification.{key}", "TYPE_STRING", value)
    return None


def _check_android(android: object) -> Violation | None:
    if android is None:
        return None
    if not isinstance(android, dict):
        return _type_error("message.android", "TYPE_MESSAGE", android)
    if (bad := _unknown_field(android, _ANDROID_FIELDS, "message.android")) is not None:
        return bad
    for key in ("collapse_key", "restricted_package_name"):
        if key in android and not isinstance(android[key], str):
            return _type_error(f"message.android.{key}", "TYPE_STRING", android[key])
    if "priority" in android and android["priority"] not in ("normal", "high", "NORMAL", "HIGH"):
        return _type_error("message.android.priority", "TYPE_ENUM", android["priority"])
    ttl = android.get("ttl")
    if ttl is not None and (not isinstance(ttl, str) or not _TTL.match(ttl)):
        return Violation("message.android.ttl", f"Invalid value at 'message.android.ttl': {ttl!r}")
    return _string_map(android.get("data"), "message.android.data") or _object_or_absent(
        android.get("notification"), "message.android.notification"
    )


def _check_apns(apns: object) -> Violation | None:
    if apns is None:
        return None
    if not isinstance(apns, dict):
        return _type_error("message.apns", "TYPE_MESSAGE", apns)
    if (bad := _unknown_field(apns, _APNS_FIELDS, "message.apns")) is not None:
        return bad
    if (bad := _string_map(apns.get("headers"), "message.apns.headers")) is not None:
        return bad
    collapse_id = (apns.get("headers") or {}).get("apns-collapse-id")
    if collapse_id is not None and len(collapse_id.encode()) > APNS_COLLAPSE_ID_MAX_BYTES:
        return Violation("message.apns.headers", "apns-collapse-id must not be longer than 64 bytes.")
    return _object_or_absent(apns.get("payload"), "message.apns.payload")


def _string_map(value: object, field: str, *, data_keys: bool = False) -> Violation | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return _type_error(field, "TYPE_MESSAGE", value)
    for index, (key, item) in enumerate(value.items()):
        if not isinstance(item, str):
            return _type_error(f"{field}[{index}].value", "TYPE_STRING", item)
        if data_keys and (key in _RESERVED_DATA_KEYS or key.lower().startswith(_RESERVED_DATA_PREFIXES)):
            return Violation(f"{field}[{index}].key", f"Invalid data key: {key!r} is reserved.")
    return None


def _object_or_absent(value: object, field: str) -> Violation | None:
    if value is None or isinstance(value, dict):
        return None
    return _type_error(field, "TYPE_MESSAGE", value)


def _unknown_field(obj: dict[str, Any], allowed: frozenset[str], where: str) -> Violation | None:
    for key in obj:
        if key not in allowed:
            at = f" at '{where}'" if where else ""
            return Violation(
                f"{where}.{key}" if where else key,
                f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.',
            )
    return None


def _type_error(field: str, expected: str, value: object) -> Violation:
    return Violation(field, f"Invalid value at '{field}' ({expected}), {json.dumps(value)}")

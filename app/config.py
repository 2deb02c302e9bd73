"""Typed settings, read once from the environment."""

from __future__ import annotations

import os
import shlex
from functools import lru_cache
from pathlib import Path
from typing import Literal

import msgspec

from models.retention import INBOX_DAYS


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # The document store. None means "the embedded local server" (SecantusDB), which the
    # dev stack and the test suite start themselves and hand over through MONGODB_URL.
    mongodb_url: str | None = None
    mongodb_db: str = "cwallet"
    # How long a request waits for a reachable store before it answers 503 (decision 0020).
    mongodb_server_selection_timeout_ms: int = 2000
    redis_url: str = "redis://127.0.0.1:6379/0"
    # arq queue name: tests give each run its own so parallel runs never share jobs.
    queue_name: str = "cwallet:queue"

    fcm_project_id: str = "cwallet-local"
    fcm_credentials: str | None = None
    fcm_endpoint: str | None = None

    jwt_secret: str = "dev-only-insecure-secret-change-me-0123456789"
    # Seals the secrets the store must keep (wallet signing keys, staff TOTP secrets; see
    # app/sealing.py). Not the JWT secret: each can be rotated without the other.
    secrets_key: str = "dev-only-secrets-key-change-me-0123456789"
    # Earlier SECRETS_KEY values, comma-separated, newest first: what they sealed still opens
    # and is sealed again under SECRETS_KEY when read (app/sealing.py). Drop one once nothing uses it.
    secrets_key_previous: str = ""
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    agency_token_minutes: int = 60
    staff_token_minutes: int = 30
    # Failed sign-ins (citizen, staff, agency, account claim) before 429: per account in an
    # hour, per client address in a minute (an address may be a whole carrier's NAT).
    failed_sign_ins_per_account_hour: int = 10
    failed_sign_ins_per_address_minute: int = 30
    # A device that signed in before (its known-device token) skips the two windows above and
    # has its own; how long such a token is good for (docs/decisions/0018-sign-in-throttling.md).
    failed_sign_ins_per_device_hour: int = 5
    known_device_days: int = 180
    # Requests a minute per caller on the whole API (0: no limit): a signed-in citizen, staff
    # member or postal operator; an agency system; anyone else, per client address.
    requests_per_minute_signed_in: int = 600
    requests_per_minute_agency: int = 3000
    requests_per_minute_per_address: int = 1200
    # Public tracking lookups (code + receipt secret, no sign-in; decision 0029): per client
    # address in a minute, and per dossier code in an hour, whatever the answer.
    tracking_lookups_per_address_minute: int = 60
    tracking_lookups_per_code_hour: int = 10
    # Proxies whose X-Forwarded-For (or Forwarded) is believed, as CIDRs separated by commas;
    # none by default, loopback included (app/client_address.py).
    trusted_proxies: str = ""
    trusted_proxy_header: str = "x-forwarded-for"
    # Bearer token Prometheus must send to read /metrics; unset → /metrics is not served.
    metrics_token: str | None = None
    # How long an agency's previous secret keeps working after a rotation.
    agency_secret_overlap_hours: int = 24
    # How long the one-time code with which a child of 14 takes over the account lasts.
    claim_code_hours: int = 72
    # How long an API process may trust its memory that a session is live without reading
    # it again (revocations reach every process at once through Redis; decision 0017).
    # 0 reads the session from the store on every request.
    session_cache_seconds: float = 30.0
    # How long an API process may serve a citizen's wallet page from memory (every write to
    # the wallet reaches every process at once through Redis; decision 0025's addendum), and
    # how many pages it keeps (a page of a few papers is about 2 kB). 0 reads the store each time.
    wallet_cache_seconds: float = 30.0
    wallet_cache_entries: int = 20_000

    environment: str = "development"
    log_level: str = "INFO"
    # Where the API's JSON logs go; unset → standard output (what containers collect).
    log_file: str | None = None
    # Max items a list endpoint returns in one page, whatever `limit` asks for.
    page_limit_max: int = 100

    notification_max_attempts: int = 8
    # Push pipeline (workers/, notifications/; docs/decisions/0014-push-pipeline.md).
    # FCM's per-project quota, shared by every worker through Redis; the bucket holds one
    # second's worth (at least one full FCM batch of 500), so a burst slows down, never fails.
    fcm_quota_per_minute: int = 600_000
    # HTTP/2 without TLS (prior knowledge) for an http:// FCM_ENDPOINT that speaks it (the
    # emulator); a server that does not is found out once and gets HTTP/1.1. False: HTTP/1.1 only.
    fcm_endpoint_h2c: bool = True
    # How pushes travel (notifications/fcm.py, decision 0025): "direct" (firebase-admin's
    # messages, credential and errors over an HTTP/1.1 keep-alive pool of `fcm_connections`,
    # 3.5-6x the messages per worker core; FCM_ENDPOINT_H2C not used) or "firebase-admin"
    # (its own send_each_async, httpx over HTTP/2).
    fcm_transport: Literal["firebase-admin", "direct"] = "direct"
    fcm_connections: int = 64
    # How long the inbox keeps a notification before the purge cron deletes it (models/retention.py).
    inbox_retention_days: int = INBOX_DAYS
    # The sweeper: how often it runs and how old work must be before it takes it over. Their
    # sum bounds how long after Redis' return the work of an outage is queued again (decision
    # 0020: about 30 s, with sending).
    sweep_every_seconds: int = 10
    sweep_grace_seconds: int = 10
    # Longest run of one job; a killed worker's jobs are picked up again this long + 10 s later.
    worker_job_timeout_seconds: int = 60
    # Announcement batches (≤500 devices each) being sent at once, across all workers: about
    # twice the number of worker processes.
    announcement_batches_in_flight: int = 4
    # Devices of one announcement batch (of one province's citizens: that many citizens' devices).
    # A batch is one job and one retry unit; FCM takes one message per request whatever it is.
    announcement_batch_devices: int = 500
    # A broadcast yields to citizens' own pushes (workers/pacing.py, decision 0025): before each
    # batch it waits while more than ANNOUNCEMENT_YIELD_ABOVE personal pushes are queued or
    # being sent, polling every ANNOUNCEMENT_YIELD_POLL_SECONDS, for at most
    # ANNOUNCEMENT_YIELD_MAX_SECONDS per batch in all, so it always moves on. 0 s: never yields.
    announcement_yield_max_seconds: float = 2.0
    announcement_yield_poll_seconds: float = 0.05
    announcement_yield_above: int = 0
    # Sends of a batch between two looks at the personal queue.
    announcement_yield_slice_devices: int = 100
    # A ceiling on all broadcasts' sends a second, below the FCM quota; 0: the quota alone.
    announcement_max_per_second: float = 0.0

    # Payments (app/payments): the provider (the local simulator in dev and tests), the secret
    # shared with it for the HMAC of pay links and callbacks, where it calls us back, and how
    # old a signed callback may be.
    payment_provider_url: str = "http://127.0.0.1:8788"
    payment_secret: str = "dev-only-payment-secret-change-me-0123456789"
    payment_notify_url: str = "http://127.0.0.1:8000/api/v1/payments/callback"
    payment_callback_max_age_seconds: int = 300
    # The largest paper a citizen may upload to a dossier (PDF, JPEG or PNG).
    attachment_max_bytes: int = 5 * 1024 * 1024
    # The largest body any other route takes (413 above it); the upload route has its own cap.
    request_max_body_bytes: int = 1024 * 1024
    # Push devices one citizen may keep; registering one more drops the one seen longest ago
    # (docs/decisions/0019-hostile-input-and-device-cap.md).
    max_devices_per_citizen: int = 10

    # Support desk: how long a citizen's consent code and the session it opens last, and how
    # many lookups one staff member may make a minute.
    consent_code_minutes: int = 5
    assisted_session_minutes: int = 15
    support_lookups_per_minute: int = 20

    # Webhooks to agencies (app/webhooks, decision 0028). Receivers on private, loopback or
    # link-local addresses are refused unless this allows them (dev and tests only).
    webhook_allow_private_addresses: bool = False
    # One attempt's whole time (connect, send, answer): a slow receiver holds one slot no longer.
    webhook_timeout_seconds: float = 5.0
    # Retries double from the base up to the cap, for this many hours; then the delivery is parked.
    webhook_retry_base_seconds: float = 10.0
    webhook_retry_max_seconds: float = 3600.0
    webhook_retry_hours: int = 24
    # Deliveries to one subscription in flight at once per worker process; more wait their turn.
    webhook_in_flight_per_subscription: int = 4
    # How long a rotated-out secret still signs (both signatures are sent meanwhile).
    webhook_secret_overlap_hours: int = 24
    webhook_subscriptions_per_agency: int = 10
    # A PEM file of certificate authorities trusted for receivers besides the public ones (an
    # agency's endpoint may chain to a national root the public bundle lacks); "" for none.
    webhook_ca_file: str = ""

    # SMS for unread critical notices (app/escalation): the provider (the local emulator under
    # `make run` and in the tests; unset: no SMS is sent, the step is recorded as failed), its
    # key, one attempt's limit, texts a citizen may get a day, and attempts before giving up
    # (retried after SMS_RETRY_MINUTES, doubling).
    sms_provider_url: str | None = None
    sms_api_key: str = "dev-only-sms-key"
    sms_timeout_seconds: float = 5.0
    sms_per_citizen_day: int = 3
    sms_max_attempts: int = 5
    sms_retry_minutes: float = 5.0


# Secrets whose built-in value is only for development: production refuses to start with it.
DEV_ONLY_SECRETS = ("jwt_secret", "secrets_key", "payment_secret")


class InsecureSettings(RuntimeError):
    """ENVIRONMENT=production with a development default for a secret."""


def require_production_secrets(settings: Settings) -> None:
    """In production every secret must be set, and to something else than the dev default."""
    if settings.environment != "production":
        return
    defaults = Settings()
    unset = [name.upper() for name in DEV_ONLY_SECRETS if getattr(settings, name) == getattr(defaults, name)]
    if unset:
        raise InsecureSettings(
            f"ENVIRONMENT=production, but {', '.join(unset)} still hold the development default: set each to a "
            "long random value of its own (e.g. `openssl rand -base64 48`), then start again."
        )
    # Without a service account the sender skips Google's token: real FCM would refuse every
    # push. Only a push server named on purpose (FCM_ENDPOINT, e.g. the emulator) needs none.
    if not settings.fcm_credentials and not settings.fcm_endpoint:
        raise InsecureSettings(
            "ENVIRONMENT=production, but FCM_CREDENTIALS is not set: point it at the Firebase service-account "
            "JSON (or set FCM_ENDPOINT to a push server of your own, such as the FCM emulator), then start again."
        )


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def running_dev_stack() -> dict[str, str]:
    """The settings of the `make run` of this checkout, from `.local/stack.env` (written by
    devtools/devrun.py), so that `cwallet ...` in a second terminal finds the running stack.

    Never in production: only when ENVIRONMENT is unset or `development`, only while the file
    exists and the stack that wrote it still runs; an installed wheel has no such file. Each
    variable set in the environment still wins over the file.
    """
    if (_env("ENVIRONMENT") or "development") != "development":
        return {}
    local = _env("CWALLET_LOCAL_DIR") or Path(__file__).resolve().parent.parent / ".local"
    try:
        text = (Path(local) / "stack.env").read_text()
        values = dict(line.split("=", 1) for line in shlex.split(text, comments=True))
        os.kill(int(values["CWALLET_STACK_PID"]), 0)  # raises when that stack has stopped
    except (OSError, ValueError, KeyError):
        return {}
    return values


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    raw: dict[str, object] = {}
    stack = running_dev_stack()
    for field in msgspec.structs.fields(Settings):
        value = _env(field.name.upper()) or stack.get(field.name.upper())
        if value is not None:
            raw[field.name] = value
    # Environment values are strings; msgspec converts "15" to 15 with strict=False.
    return msgspec.convert(raw, Settings, strict=False)

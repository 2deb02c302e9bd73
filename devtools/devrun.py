"""`make run` (`python -m devtools.devrun`): the whole system on this machine, with demo data.

Starts whatever the environment does not already provide — the embedded MongoDB-compatible
store, Redis, the local FCM emulator, the payment simulator — seeds the demo data once,
starts the API and one worker, prints where everything is and the demo credentials, and
stops everything it started, in reverse order, on Ctrl-C or SIGTERM. A part that crashes is
started again with backoff (`devtools/supervisor.py`); if this supervisor is killed outright,
its parts end with it (`devstack.start_process`). The settings of the running stack go to
`.local/stack.env`, which the `cwallet` CLI (through `app/config.py`) and the benchmark read
when a variable is unset, and which a shell can `source` for the URLs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from devtools.devstack import (
    DEFAULT_REDIS_URL,
    LOCAL_DIR,
    LOCAL_HOSTS,
    LOG_DIR,
    REPO_ROOT,
    STACK_FILE,
    DevStackError,
    ManagedProcess,
    die_with_parent,
    http_answers,
    port_is_free,
    redis_answers,
    start_embedded_mongo,
    start_fcm_emulator,
    start_payment_simulator,
    start_process,
    start_redis,
    start_sms_emulator,
    wait_until,
)
from devtools.supervisor import Part, check_once

# Preferred ports of the local emulators (the config's defaults); another is picked, and
# printed, when one is taken.
FCM_EMULATOR_PORT = 8787
PAYMENT_SIMULATOR_PORT = 8788
# What `.local/stack.env` holds besides the URLs: the settings a second terminal needs.
SHARED_SETTINGS = (
    "ENVIRONMENT", "MONGODB_URL", "MONGODB_DB", "REDIS_URL", "QUEUE_NAME", "FCM_PROJECT_ID", "FCM_ENDPOINT",
    "JWT_SECRET", "SECRETS_KEY", "PAYMENT_PROVIDER_URL", "PAYMENT_SECRET", "PAYMENT_NOTIFY_URL",
)  # fmt: skip


class _Stop(BaseException):
    """Raised from the signal handler to unwind into the shutdown path."""


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signum)


def _venv_script(name: str) -> list[str]:
    """A console script of this interpreter's environment, as an argv prefix."""
    script = Path(sys.executable).parent / name
    if script.exists():
        return [str(script)]
    found = shutil.which(name)
    if found is None:
        raise DevStackError(f"`{name}` is not installed: run `make install` first.")
    return [found]


def _local_secret(name: str) -> str:
    """A secret kept in .local/<name>, so tokens and sealed secrets survive a restart of the stack."""
    path = LOCAL_DIR / name
    if path.exists() and (existing := path.read_text().strip()):
        return existing
    secret = secrets.token_urlsafe(48)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(secret + "\n")
    return secret


def _ensure_redis(env: dict[str, str], started: list[Part]) -> str:
    url = env.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    if redis_answers(url):
        _out(f"Redis already answers at {_redact(url)}: using it (not started here, so it keeps running after).")
        return url
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "") or (parts.hostname or "localhost") not in LOCAL_HOSTS:
        raise DevStackError(f"Redis at {url} does not answer, and it is not one we can start.")
    port = parts.port or 6379
    _out(f"Redis at {url} does not answer: starting redis-server on port {port} (stopped with the stack).")
    started.append(Part(start_redis(port, log_path=LOG_DIR / "redis.log")))
    started[-1].restart = lambda: start_redis(port, log_path=LOG_DIR / "redis.log")
    return url


def _preferred_port(port: int, what: str) -> int | None:
    """`port` when it is free; None (any free port) with a note when it is taken."""
    if port_is_free(port):
        return port
    _out(f"Port {port} is taken: the {what} gets another one (printed below and in {STACK_FILE}).")
    return None


def write_stack_file(env: Mapping[str, str], urls: Mapping[str, str], parts: Sequence[Part]) -> None:
    """`.local/stack.env`: KEY='value' lines a shell can `source` (nothing is exported) and
    app/config.py reads; CWALLET_STACK_PID tells whether the stack that wrote it still runs."""
    values = {**{k: env[k] for k in SHARED_SETTINGS if env.get(k)}, **urls, "CWALLET_STACK_PID": str(os.getpid())}
    values |= {f"CWALLET_PID_{p.name.upper().replace('-', '_')}": str(p.proc.pid) for p in parts}
    lines = ["# Written by `make run` (devtools/devrun.py) while it runs; deleted when it stops."]
    lines += [f"{key}={shlex.quote(value)}" for key, value in values.items()]
    STACK_FILE.parent.mkdir(parents=True, exist_ok=True)
    partial = STACK_FILE.with_suffix(".tmp")
    partial.touch(mode=0o600)  # it holds the stack's secrets, like .local/jwt_secret
    partial.write_text("\n".join(lines) + "\n")
    partial.replace(STACK_FILE)


def _seed(env: Mapping[str, str]) -> str:
    argv = [*_venv_script("cwallet"), "seed-demo"]
    try:
        done = subprocess.run(
            argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
            stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise DevStackError("`cwallet seed-demo` did not finish within 120 s.") from exc
    (LOG_DIR / "seed.log").write_text(done.stderr)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).splitlines()[-30:])
        raise DevStackError(f"`cwallet seed-demo` failed (exit {done.returncode}):\n{tail}")
    try:
        return json.dumps(json.loads(done.stdout), indent=2, ensure_ascii=False)
    except ValueError:
        return done.stdout.strip()


def _docs_urls(api: str) -> list[str]:
    candidates = ["/schema/swagger", "/schema", "/schema/openapi.json"]
    return [api + p for p in candidates if http_answers(api + p)] or [api + "/schema"]


def _redact(url: str) -> str:
    """The URL with any password replaced by ***, for printing."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


def _banner(api: str, fcm: str | None, env: Mapping[str, str], creds: str) -> str:
    rule = "=" * 72
    lines = [
        rule,
        "  Citizen Wallet — local stack is up",
        rule,
        f"  API            {api}   (health: {api}/health/live)",
        *[f"  API docs       {u}" for u in _docs_urls(api)],
        f"  Console        {api}/console   (staff and clerk demo accounts below)",
        f"  MongoDB        {_redact(env['MONGODB_URL'])}  (db {env.get('MONGODB_DB', 'cwallet')})",
        f"  Redis          {_redact(env['REDIS_URL'])}",
    ]
    if fcm:
        lines += [f"  FCM emulator   {fcm}", f"  Sent pushes    {fcm}/emulator/messages"]
    else:
        lines.append(f"  FCM            {env.get('FCM_ENDPOINT') or 'real Firebase (FCM_CREDENTIALS is set)'}")
    if env.get("PAYMENT_PROVIDER_URL"):
        lines.append(f"  Payments       {env['PAYMENT_PROVIDER_URL']}  (callbacks: /simulator/callbacks)")
    lines += [
        f"  Logs           {LOG_DIR}/*.log",
        "",
        "  Demo credentials (cwallet seed-demo):",
        *["    " + line for line in creds.splitlines()],
        "",
        "  In a second terminal, in this directory:",
        f"    source {_shown(STACK_FILE)}    # sets $API_URL, $FCM_EMULATOR_URL, $PAYMENT_SIMULATOR_URL",
        "    uv run cwallet ...            # finds this stack by itself (README: the flow with curl)",
        "",
        "  A part that crashes is started again. Ctrl-C stops everything.",
        rule,
    ]
    return "\n".join(lines)


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it is under it (as the README writes it)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _supervise(parts: list[Part], env: Mapping[str, str], urls: Mapping[str, str]) -> int:
    while True:
        pids = [p.proc.pid for p in parts]
        if not check_once(parts, _out):
            return 1
        if pids != [p.proc.pid for p in parts]:
            write_stack_file(env, urls, parts)
        time.sleep(0.5)  # the polling period of a supervisor, not a wait for a condition


def _run(args: argparse.Namespace, started: list[Part]) -> int:
    env = dict(os.environ)
    env.setdefault("ENVIRONMENT", "development")
    env.setdefault("FCM_PROJECT_ID", "cwallet-local")
    env["PYTHONUNBUFFERED"] = "1"
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    if not port_is_free(args.api_port):
        raise DevStackError(f"Port {args.api_port} is in use: stop what uses it or set API_PORT.")

    if not env.get("MONGODB_URL"):
        _out("Starting the embedded document store (SecantusDB) ...")
        mongo = start_embedded_mongo(LOCAL_DIR / "mongo", log_path=LOG_DIR / "mongo.log")
        mongo_port = urlsplit(mongo.url or "").port
        started.append(
            Part(mongo, lambda: start_embedded_mongo(LOCAL_DIR / "mongo", mongo_port, log_path=mongo.log_path))
        )
        env["MONGODB_URL"] = mongo.url or ""
    _ensure_redis(env, started)

    fcm_url: str | None = None
    if not env.get("FCM_CREDENTIALS") and not env.get("FCM_ENDPOINT"):
        if importlib.util.find_spec("devtools.fcm_emulator") is None:
            _out("warning: devtools.fcm_emulator is missing; pushes have nowhere to go.")
        else:
            _out("Starting the local FCM emulator ...")
            project, fcm_log = env["FCM_PROJECT_ID"], LOG_DIR / "fcm.log"
            fcm = start_fcm_emulator(_preferred_port(FCM_EMULATOR_PORT, "FCM emulator"), project, log_path=fcm_log)
            fcm_port = urlsplit(fcm.url or "").port
            started.append(Part(fcm, lambda: start_fcm_emulator(fcm_port, project, log_path=fcm_log)))
            fcm_url = env["FCM_ENDPOINT"] = fcm.url or ""
    if not env.get("JWT_SECRET"):
        env["JWT_SECRET"] = _local_secret("jwt_secret")
    if not env.get("SECRETS_KEY"):
        env["SECRETS_KEY"] = _local_secret("secrets_key")
    if not env.get("PAYMENT_PROVIDER_URL"):
        _out("Starting the local payment simulator ...")
        pay_secret = env.setdefault("PAYMENT_SECRET", secrets.token_urlsafe(32))
        pay_log = LOG_DIR / "payments.log"
        pay_port = _preferred_port(PAYMENT_SIMULATOR_PORT, "payment simulator")
        pay = start_payment_simulator(pay_secret, pay_port, log_path=pay_log)
        pay_port = urlsplit(pay.url or "").port
        started.append(Part(pay, lambda: start_payment_simulator(pay_secret, pay_port, log_path=pay_log)))
        env["PAYMENT_PROVIDER_URL"] = pay.url or ""
        env.setdefault("PAYMENT_NOTIFY_URL", f"http://127.0.0.1:{args.api_port}/api/v1/payments/callback")

    if not env.get("SMS_PROVIDER_URL"):
        _out("Starting the local SMS emulator ...")
        sms_key = env.setdefault("SMS_API_KEY", secrets.token_urlsafe(24))
        sms_log = LOG_DIR / "sms.log"
        sms = start_sms_emulator(sms_key, log_path=sms_log)
        sms_port = urlsplit(sms.url or "").port
        started.append(Part(sms, lambda: start_sms_emulator(sms_key, sms_port, log_path=sms_log)))
        env["SMS_PROVIDER_URL"] = sms.url or ""
    # A webhook receiver on this machine (an agency developer's) may take deliveries here only.
    env.setdefault("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "true")

    _out("Seeding demo data (cwallet seed-demo) ...")
    creds = _seed(env)

    api_url = f"http://127.0.0.1:{args.api_port}"
    _out("Starting the API and a worker ...")
    api_argv = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
                "--host", "127.0.0.1", "--port", str(args.api_port), "--no-proxy-headers"]  # fmt: skip

    def start_api() -> ManagedProcess:
        api = start_process("api", api_argv, env, LOG_DIR / "api.log", url=api_url)
        try:
            wait_until(api, lambda: http_answers(f"{api_url}/health/live"), "/health/live", 60)
        except BaseException:
            api.stop()
            raise
        return api

    worker_argv = [sys.executable, "-m", "workers"]
    started.append(Part(start_api(), start_api))
    started.append(Part(start_process("worker", worker_argv, env, LOG_DIR / "worker.log")))
    started[-1].restart = lambda: start_process("worker", worker_argv, env, LOG_DIR / "worker.log")

    urls = {"API_URL": api_url}
    if fcm_url:
        urls["FCM_EMULATOR_URL"] = fcm_url
    if any(p.name == "payment-simulator" for p in started):
        urls["PAYMENT_SIMULATOR_URL"] = env["PAYMENT_PROVIDER_URL"]
    write_stack_file(env, urls, started)
    _out(_banner(api_url, fcm_url, env, creds))
    return _supervise(started, env, urls)


def _stop_all(started: list[Part]) -> None:
    STACK_FILE.unlink(missing_ok=True)
    if not started:
        return
    _out("Stopping " + ", ".join(p.name for p in reversed(started)) + " ...")
    for part in reversed(started):
        proc = part.proc
        code = proc.stop()
        # uvicorn re-raises the SIGTERM it handled, so -15 after a clean shutdown is normal.
        note = "" if code in (0, -signal.SIGTERM) else f" (exit code {code})"
        _out(f"  {proc.name} stopped{note}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.devrun", description=__doc__)
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("API_PORT", "8000")))
    args = parser.parse_args(argv)

    # `make run` starts this through `uv run`: if that is killed outright, stop cleanly too.
    die_with_parent(os.getppid())()
    started: list[Part] = []
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    code = 0
    try:
        code = _run(args, started)
    except _Stop:
        _out("\nShutting down ...")
    except DevStackError as exc:
        _out(f"\nerror: {exc}")
        code = 1
    finally:
        # A second Ctrl-C must not cut the clean-up short; stop() escalates to SIGKILL.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        _stop_all(started)
    return code


if __name__ == "__main__":
    sys.exit(main())

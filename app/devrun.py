"""`make run` (`python -m app.devrun`): the whole system on this machine, with demo data.

Starts whatever the environment does not already provide — the embedded MongoDB-compatible
store, Redis, the local FCM emulator, the payment simulator — seeds the demo data once,
starts the API and one worker, prints where everything is and the demo credentials, and
stops everything it started, in reverse order, on Ctrl-C. The processes are started with
the building blocks of `app.devstack`, as the test suite starts its own.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from app.devstack import (
    DEFAULT_REDIS_URL,
    LOCAL_DIR,
    LOCAL_HOSTS,
    LOG_DIR,
    REPO_ROOT,
    DevStackError,
    ManagedProcess,
    http_answers,
    port_is_free,
    redis_answers,
    start_embedded_mongo,
    start_fcm_emulator,
    start_payment_simulator,
    start_process,
    start_redis,
    wait_until,
)


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


def _ensure_redis(env: dict[str, str], started: list[ManagedProcess]) -> str:
    url = env.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    if redis_answers(url):
        return url
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "") or (parts.hostname or "localhost") not in LOCAL_HOSTS:
        raise DevStackError(f"Redis at {url} does not answer, and it is not one we can start.")
    _out(f"Redis at {url} does not answer: starting redis-server on port {parts.port or 6379}.")
    started.append(start_redis(parts.port or 6379, log_path=LOG_DIR / "redis.log"))
    return url


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
        f"  MongoDB        {_redact(env['MONGODB_URL'])}  (db {env.get('MONGODB_DB', 'cwallet')})",
        f"  Redis          {_redact(env['REDIS_URL'])}",
    ]
    if fcm:
        lines += [f"  FCM emulator   {fcm}", f"  Sent pushes    {fcm}/emulator/messages"]
    if env.get("PAYMENT_PROVIDER_URL"):
        lines.append(f"  Payments       {env['PAYMENT_PROVIDER_URL']}  (callbacks: /simulator/callbacks)")
    else:
        lines.append("  FCM            real Firebase (FCM_CREDENTIALS is set)")
    lines += [
        f"  Logs           {LOG_DIR}/*.log",
        "",
        "  Demo credentials (cwallet seed-demo):",
        *["    " + line for line in creds.splitlines()],
        "",
        "  Ctrl-C stops everything.",
        rule,
    ]
    return "\n".join(lines)


def _supervise(children: list[ManagedProcess]) -> int:
    while True:
        for child in children:
            if not child.alive():
                _out(f"\n{child.name} exited unexpectedly (code {child.popen.returncode}).")
                _out(f"--- last lines of {child.log_path} ---\n{child.log_tail()}")
                return 1
        time.sleep(0.5)


def _run(args: argparse.Namespace, started: list[ManagedProcess]) -> int:
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
        started.append(mongo)
        env["MONGODB_URL"] = mongo.url or ""
    _ensure_redis(env, started)

    fcm_url: str | None = None
    if not env.get("FCM_CREDENTIALS") and not env.get("FCM_ENDPOINT"):
        if importlib.util.find_spec("notifications.emulator") is None:
            _out("warning: notifications.emulator is missing; pushes have nowhere to go.")
        else:
            _out("Starting the local FCM emulator ...")
            fcm = start_fcm_emulator(project_id=env["FCM_PROJECT_ID"], log_path=LOG_DIR / "fcm.log")
            started.append(fcm)
            fcm_url = env["FCM_ENDPOINT"] = fcm.url or ""
    if not env.get("JWT_SECRET"):
        env["JWT_SECRET"] = _local_secret("jwt_secret")
    if not env.get("SECRETS_KEY"):
        env["SECRETS_KEY"] = _local_secret("secrets_key")
    if not env.get("PAYMENT_PROVIDER_URL"):
        _out("Starting the local payment simulator ...")
        env.setdefault("PAYMENT_SECRET", secrets.token_urlsafe(32))
        pay = start_payment_simulator(env["PAYMENT_SECRET"], log_path=LOG_DIR / "payments.log")
        started.append(pay)
        env["PAYMENT_PROVIDER_URL"] = pay.url or ""
        env.setdefault("PAYMENT_NOTIFY_URL", f"http://127.0.0.1:{args.api_port}/api/v1/payments/callback")

    _out("Seeding demo data (cwallet seed-demo) ...")
    creds = _seed(env)

    api_url = f"http://127.0.0.1:{args.api_port}"
    _out("Starting the API and a worker ...")
    api_argv = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
                "--host", "127.0.0.1", "--port", str(args.api_port), "--no-proxy-headers"]  # fmt: skip
    api = start_process("api", api_argv, env, LOG_DIR / "api.log", url=api_url)
    started.append(api)
    worker_argv = [sys.executable, "-m", "arq", "workers.settings.WorkerSettings"]
    started.append(start_process("worker", worker_argv, env, LOG_DIR / "worker.log"))
    wait_until(api, lambda: http_answers(f"{api_url}/health/live"), "/health/live", 60)

    _out(_banner(api_url, fcm_url, env, creds))
    return _supervise(started)


def _stop_all(started: list[ManagedProcess]) -> None:
    if not started:
        return
    _out("Stopping " + ", ".join(p.name for p in reversed(started)) + " ...")
    for proc in reversed(started):
        code = proc.stop()
        # uvicorn re-raises the SIGTERM it handled, so -15 after a clean shutdown is normal.
        note = "" if code in (0, -signal.SIGTERM) else f" (exit code {code})"
        _out(f"  {proc.name} stopped{note}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.devstack", description=__doc__)
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("API_PORT", "8000")))
    args = parser.parse_args(argv)

    started: list[ManagedProcess] = []
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

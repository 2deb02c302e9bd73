"""The local development stack: a small process supervisor.

`python -m app.devstack` (what `make run` runs) starts whatever the environment does not
already provide — the embedded MongoDB-compatible store, Redis, the local FCM emulator —
then seeds the demo data, starts the API and one worker, prints where everything is, and
stops everything it started, in reverse order, on Ctrl-C.

The building blocks (`free_port`, `redis_answers`, `start_embedded_mongo`,
`start_fcm_emulator`, `start_redis`, `start_process`, `ManagedProcess`) are importable so
the test suite starts its real servers the same way. Each child runs in a process group of
its own: a terminal's Ctrl-C reaches only this supervisor, and `ManagedProcess.stop()`
signals only the group it created, never anything else.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import urlsplit

import pymongo
import redis
from pymongo.errors import PyMongoError

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_DIR = REPO_ROOT / ".local"
LOG_DIR = LOCAL_DIR / "logs"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class DevStackError(RuntimeError):
    """Something the developer must fix; the message says what."""


@dataclass
class ManagedProcess:
    """A child process this module started, in a process group of its own."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    url: str | None = None
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            with self.log_path.open("rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 64_000))
                data = fh.read()
        except OSError:
            return ""
        return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM the group this process leads, then SIGKILL after `grace` seconds.

        Signals go only while the leader has not been reaped, so its pid (and group id)
        cannot have been reused by an unrelated process. Returns the exit code.
        """
        try:
            if self.popen.poll() is None:
                self._signal_group(signal.SIGTERM)
                try:
                    self.popen.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    self._signal_group(signal.SIGKILL)
                    self.popen.wait(timeout=5)
            return self.popen.returncode
        finally:
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)  # group id == leader pid (start_new_session)

    def __enter__(self) -> ManagedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def redis_answers(url: str) -> bool:
    """True when a Redis server at `url` answers PING within a short timeout."""
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1) as client:
            return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def mongo_answers(url: str) -> bool:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        url, serverSelectionTimeoutMS=500, connectTimeoutMS=500
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def http_answers(url: str) -> bool:
    """True when GET `url` (http or https only) answers 2xx within a second."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:  # noqa: S310 (scheme checked above)
            status: int = resp.status
            return 200 <= status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_until(proc: ManagedProcess, check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll `check` until it is true; fail with the log tail if `proc` dies or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if not proc.alive():
            raise DevStackError(
                f"{proc.name} exited with code {proc.popen.returncode} before {what}.\n"
                f"--- last lines of {proc.log_path} ---\n{proc.log_tail()}"
            )
        if time.monotonic() > deadline:
            raise DevStackError(
                f"{proc.name}: no sign of {what} after {timeout:.0f} s.\n"
                f"--- last lines of {proc.log_path} ---\n{proc.log_tail()}"
            )
        time.sleep(0.1)


def _start_and_wait(
    name: str,
    argv: Sequence[str],
    log_path: Path,
    url: str,
    check: Callable[[], bool],
    what: str,
    timeout: float,
) -> ManagedProcess:
    proc = start_process(name, argv, None, log_path, url=url)
    try:
        wait_until(proc, check, what, timeout)
    except BaseException:  # a failed start, or Ctrl-C while waiting: leave nothing behind
        proc.stop()
        raise
    return proc


def start_process(
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str] | None,
    log_path: Path,
    *,
    url: str | None = None,
    cwd: Path = REPO_ROOT,
) -> ManagedProcess:
    """Start `argv` in a new session (its own process group), output to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("wb")
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("PYTHONUNBUFFERED", "1")
    try:
        popen = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        log_file.close()
        raise DevStackError(f"{name}: cannot run {argv[0]!r}: {exc}") from exc
    return ManagedProcess(name=name, popen=popen, log_path=log_path, url=url, _log_file=log_file)


def start_embedded_mongo(
    data_dir: Path,
    port: int | None = None,
    *,
    log_path: Path | None = None,
    timeout: float = 30.0,
) -> ManagedProcess:
    """Start SecantusDB (`secantusd-py`) with its files in `data_dir`; wait for a ping.

    It advertises itself as the single-node replica set `secantus`; the URL carries
    `directConnection=true` so the driver talks to this one server whatever it advertises.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    # An explicit (empty) config file turns off auto-discovery of ./secantusd.toml,
    # ~/.secantus/secantusd.toml and /etc/secantus/secantusd.toml.
    config = data_dir / "secantusd.toml"
    if not config.exists():
        config.write_text("# Written by app.devstack; command-line flags set everything.\n")
    log = log_path or data_dir / "secantusd.log"
    for attempt in range(3):
        chosen = port or free_port()
        argv = [
            sys.executable, "-m", "secantus",
            "--config", str(config),
            "--host", "127.0.0.1",
            "--port", str(chosen),
            "--storage-path", str(data_dir / "data"),
        ]  # fmt: skip
        url = f"mongodb://127.0.0.1:{chosen}/?directConnection=true"
        try:
            return _start_and_wait("mongo", argv, log, url, functools.partial(mongo_answers, url), "a ping", timeout)
        except DevStackError as exc:
            # A port picked for us may have been taken in between: try another one.
            if port is None and attempt < 2 and "address already in use" in str(exc).lower():
                continue
            raise
    raise AssertionError("unreachable")


def start_redis(port: int | None = None, *, log_path: Path, timeout: float = 15.0) -> ManagedProcess:
    """Start a throw-away `redis-server` on 127.0.0.1 (no persistence) as a child."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise DevStackError(
            "redis-server is not installed. Run `make redis` (installs it with apt-get when "
            "it can), or point REDIS_URL at a running Redis."
        )
    chosen = port or free_port()
    argv = [
        binary, "--bind", "127.0.0.1", "--port", str(chosen),
        "--save", "", "--appendonly", "no", "--daemonize", "no",
        "--dir", str(log_path.parent),
    ]  # fmt: skip
    url = f"redis://127.0.0.1:{chosen}/0"
    return _start_and_wait("redis", argv, log_path, url, lambda: redis_answers(url), "answering PING", timeout)


def start_fcm_emulator(
    port: int | None = None,
    project_id: str = "cwallet-local",
    *,
    log_path: Path | None = None,
    timeout: float = 30.0,
) -> ManagedProcess:
    """Start the local FCM emulator (`python -m notifications.emulator`); wait for health.

    Without `log_path` the log goes to a new temporary directory (never the dev stack's).
    """
    chosen = port or free_port()
    url = f"http://127.0.0.1:{chosen}"
    argv = [
        sys.executable, "-m", "notifications.emulator",
        "--host", "127.0.0.1", "--port", str(chosen), "--project-id", project_id,
    ]  # fmt: skip
    health = f"{url}/emulator/health"
    log = log_path or Path(tempfile.mkdtemp(prefix="cwallet-fcm-")) / "fcm.log"
    return _start_and_wait("fcm-emulator", argv, log, url, lambda: http_answers(health), "health answering", timeout)


def start_payment_simulator(
    secret: str,
    port: int | None = None,
    *,
    log_path: Path | None = None,
    timeout: float = 30.0,
) -> ManagedProcess:
    """Start the local payment provider (`python -m app.payments.simulator`); wait for health.

    The shared secret goes through the environment, not the command line.
    """
    chosen = port or free_port()
    url = f"http://127.0.0.1:{chosen}"
    argv = [sys.executable, "-m", "app.payments.simulator", "--host", "127.0.0.1", "--port", str(chosen)]
    log = log_path or Path(tempfile.mkdtemp(prefix="cwallet-pay-")) / "payments.log"
    proc = start_process("payment-simulator", argv, {**os.environ, "PAYMENT_SECRET": secret}, log, url=url)
    try:
        wait_until(proc, lambda: http_answers(f"{url}/simulator/health"), "health answering", timeout)
    except BaseException:
        proc.stop()
        raise
    return proc


# --- `python -m app.devstack` -------------------------------------------------------------


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
                "--host", "127.0.0.1", "--port", str(args.api_port)]  # fmt: skip
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

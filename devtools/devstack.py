"""The local processes of the development stack, started and stopped one by one.

`make run` (`devtools/devrun.py`) puts them together. The building blocks (`free_port`,
`redis_answers`, `start_embedded_mongo`, `start_fcm_emulator`, `start_redis`,
`start_process`, `ManagedProcess`) are importable so the test suite and the benchmarks
start their real servers the same way. Each child runs in a process group of
its own: a terminal's Ctrl-C reaches only this supervisor, and `ManagedProcess.stop()`
signals only the group it created, never anything else.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
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
from typing import IO, Any
from urllib.parse import urlsplit

import pymongo
import redis
from pymongo.errors import PyMongoError

REPO_ROOT = Path(__file__).resolve().parent.parent
# Local data, logs and secrets; CWALLET_LOCAL_DIR moves them (the suite's own `make run` does).
LOCAL_DIR = Path(os.environ.get("CWALLET_LOCAL_DIR") or REPO_ROOT / ".local")
# The running stack's settings, for a second terminal; app/config.py reads the same file.
STACK_FILE = LOCAL_DIR / "stack.env"
LOG_DIR = LOCAL_DIR / "logs"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


# prctl(2): the child gets this signal when the thread that started it dies, SIGKILL included.
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True) if sys.platform == "linux" else None


def die_with_parent(parent_pid: int) -> Callable[[], None]:
    """A preexec_fn: SIGTERM this child as soon as its parent dies, however the parent ends.

    Ctrl-C and SIGTERM reach the supervisor, which stops its children itself; SIGKILL (or a
    crash) gives it no chance to, so the kernel does it. If the parent died before prctl ran,
    the child is already an orphan and ends at once. Linux only; elsewhere a no-op.
    """

    def preexec() -> None:
        if _LIBC is None:
            return
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent_pid:
            os._exit(1)

    return preexec


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
    """Start `argv` in a new session (its own process group), output to `log_path`.

    The child ends when the thread that started it ends (PR_SET_PDEATHSIG): a supervisor or
    a test run that is killed leaves no server behind. So start long-lived children from a
    thread that lives as long as they should (the main thread, or a pool kept open).
    """
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
            preexec_fn=die_with_parent(os.getpid()),  # prctl only: safe between fork and exec
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
        config.write_text("# Written by devtools.devstack; command-line flags set everything.\n")
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
    """Start the local FCM emulator (`python -m devtools.fcm_emulator`); wait for health.

    Without `log_path` the log goes to a new temporary directory (never the dev stack's).
    """
    chosen = port or free_port()
    url = f"http://127.0.0.1:{chosen}"
    argv = [
        sys.executable, "-m", "devtools.fcm_emulator",
        "--host", "127.0.0.1", "--port", str(chosen), "--project-id", project_id,
    ]  # fmt: skip
    health = f"{url}/emulator/health"
    log = log_path or Path(tempfile.mkdtemp(prefix="cwallet-fcm-")) / "fcm.log"
    return _start_and_wait("fcm-emulator", argv, log, url, lambda: http_answers(health), "health answering", timeout)


def start_sms_emulator(
    api_key: str, port: int | None = None, *, log_path: Path | None = None, timeout: float = 30.0
) -> ManagedProcess:
    """Start the local SMS provider (`python -m devtools.sms_emulator`); wait for health.
    The key goes through the environment, not the command line."""
    chosen = port or free_port()
    url = f"http://127.0.0.1:{chosen}"
    argv = [sys.executable, "-m", "devtools.sms_emulator", "--host", "127.0.0.1", "--port", str(chosen)]
    log = log_path or Path(tempfile.mkdtemp(prefix="cwallet-sms-")) / "sms.log"
    proc = start_process("sms-emulator", argv, {**os.environ, "SMS_API_KEY": api_key}, log, url=url)
    try:
        wait_until(proc, lambda: http_answers(f"{url}/emulator/health"), "health answering", timeout)
    except BaseException:
        proc.stop()
        raise
    return proc


def start_payment_simulator(
    secret: str,
    port: int | None = None,
    *,
    log_path: Path | None = None,
    timeout: float = 30.0,
) -> ManagedProcess:
    """Start the local payment provider (`python -m devtools.payment_simulator`); wait for health.

    The shared secret goes through the environment, not the command line.
    """
    chosen = port or free_port()
    url = f"http://127.0.0.1:{chosen}"
    argv = [sys.executable, "-m", "devtools.payment_simulator", "--host", "127.0.0.1", "--port", str(chosen)]
    log = log_path or Path(tempfile.mkdtemp(prefix="cwallet-pay-")) / "payments.log"
    proc = start_process("payment-simulator", argv, {**os.environ, "PAYMENT_SECRET": secret}, log, url=url)
    try:
        wait_until(proc, lambda: http_answers(f"{url}/simulator/health"), "health answering", timeout)
    except BaseException:
        proc.stop()
        raise
    return proc

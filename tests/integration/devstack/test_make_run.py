"""`make run` as a newcomer meets it: one stack, started as `make run` starts it, serves the
README's walkthrough run as it stands from a second process; then a crashed part comes back
by itself; and a supervisor killed outright leaves none of its parts running.

The three tests share the one stack (starting it takes about a minute); they run in file
order, and the last one kills it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from devtools.devstack import REPO_ROOT, DevStackError, ManagedProcess, free_port, http_answers, start_process
from tests.integration.devstack.processes import gone, read_stack_file, wait_for

pytestmark = pytest.mark.slow

WALKTHROUGH_HEADING = "## Try it: the flow with curl"
# Settings a test run may have put in this process's environment: the stack and the second
# terminal must find theirs through .local/stack.env, as a newcomer's would.
SUITE_VARIABLES = {f.upper() for f in Settings.__struct_fields__} | {"LOG_FILE", "CWALLET_LOCAL_DIR"}


@dataclass
class DevStack:
    supervisor: ManagedProcess
    home: Path  # the "checkout" the second terminal stands in: its .local is the stack's
    env: dict[str, str]

    @property
    def local(self) -> Path:
        return self.home / ".local"

    def settings(self) -> dict[str, str]:
        return read_stack_file(self.local / "stack.env")

    def part_pids(self) -> dict[str, int]:
        prefix = "CWALLET_PID_"
        return {k.removeprefix(prefix): int(v) for k, v in self.settings().items() if k.startswith(prefix)}


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SUITE_VARIABLES}
    return {**env, **extra}


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[DevStack]:
    home = tmp_path_factory.mktemp("newcomer")
    env = _clean_env(
        CWALLET_LOCAL_DIR=str(home / ".local"),
        API_PORT=str(free_port()),
        REDIS_URL=redis_url,  # the suite's Redis, as `make run` finds one answering
        QUEUE_NAME=f"cwallet:make-run:{home.name}",  # the shared Redis: a queue of its own
    )
    argv = [sys.executable, "-m", "devtools.devrun"]  # what `make run` runs, through `uv run`
    supervisor = start_process("make-run", argv, env, home / "make-run.log")
    stack = DevStack(supervisor, home, env)
    try:
        wait_for(lambda: "Ctrl-C stops everything" in supervisor.log_tail(400), 300, supervisor, "the banner")
        yield stack
    finally:
        pids = stack.part_pids() if (stack.local / "stack.env").exists() else {}
        supervisor.stop(grace=30)
        for pid in pids.values():  # a failed test must not leave a part behind either
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


def _walkthrough_blocks() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split(WALKTHROUGH_HEADING, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


def test_the_readme_walkthrough_works_verbatim_in_a_second_terminal(dev_stack: DevStack) -> None:
    blocks = _walkthrough_blocks()
    assert len(blocks) >= 5 and any("uv run cwallet audit verify" in b for b in blocks)
    # One bash, as one terminal: the blocks run one after another, variables carry over, and
    # the first command that fails ends it. Each block reports that it finished.
    script = "set -euo pipefail\n" + "".join(f"{block}\necho '--- block {i} done'\n" for i, block in enumerate(blocks))
    uv = os.environ.get("UV")  # `uv run` names itself; the README's PATH line covers ~/.local/bin
    path = os.pathsep.join(filter(None, [str(Path(uv).parent) if uv else None, os.environ["PATH"]]))
    # The second terminal stands in a directory whose .local is the stack's (UV_PROJECT: the
    # project `uv run` uses); CWALLET_LOCAL_DIR, as the stack got it, points the CLI there too.
    env = _clean_env(PATH=path, UV_PROJECT=str(REPO_ROOT), CWALLET_LOCAL_DIR=str(dev_stack.local))
    done = subprocess.run(
        ["bash", "-c", script], cwd=dev_stack.home, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert output.count("--- block ") == len(blocks)
    # No answer along the way was an error (curl -s prints problem+json bodies too).
    assert not re.search(r'"status":\s*[45]\d\d', done.stdout), done.stdout[-4000:]
    code = re.search(r"^dossier (\S+)$", done.stdout, flags=re.MULTILINE)
    assert code is not None and code.group(1) != "null", done.stdout[-4000:]
    # The operator's commands answered: the new agency's credentials, the staff's TOTP URI.
    assert '"code": "CSGT2"' in done.stdout and "otpauth://" in done.stdout
    assert '"dropped": {}' in done.stdout  # a fresh store holds no retired index

    # What the citizen sees: every status pushed to the phone (the worker sends them, so wait
    # for them), and the licence in the wallet.
    stack = dev_stack.settings()
    messages_url = f"{stack['FCM_EMULATOR_URL']}/emulator/messages?token=my-phone-fcm-token"

    def statuses() -> set[str]:
        messages = httpx.get(messages_url, timeout=5).json()["messages"]
        return {m["data"].get("status") for m in messages if m["data"].get("dossier_code") == code.group(1)}

    wanted = {"received", "processing", "approved", "result_ready"}
    wait_for(lambda: wanted <= statuses(), 60, dev_stack.supervisor, f"pushes {sorted(wanted)} at the emulator")
    documents = re.findall(r'"type": "(\w+)",\s*"status": "(\w+)"', done.stdout)
    assert ("driver_licence", "valid") in documents, done.stdout[-2000:]


def test_the_demo_clerk_signs_in_to_the_console(dev_stack: DevStack) -> None:
    """`make run` prints the console's address and a demo clerk that can sign in there."""
    import pyotp

    from app.cli import DEMO_CLERK, DEMO_CLERK_TOTP_SECRET

    assert "/console" in dev_stack.supervisor.log_tail(400)
    with httpx.Client(base_url=dev_stack.settings()["API_URL"], timeout=10) as browser:
        form = browser.get("/console/clerk/sign-in")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
        assert form.status_code == 200 and token is not None
        fields = {"username": DEMO_CLERK["username"], "password": DEMO_CLERK["password"]}
        signed_in = browser.post(
            "/console/clerk/sign-in",
            data={**fields, "otp": pyotp.TOTP(DEMO_CLERK_TOTP_SECRET).now(), "_csrf_token": token.group(1)},
        )
        assert signed_in.status_code == 303, signed_in.text
        assert browser.get("/console/agency/dossiers").status_code == 200


def test_a_crashed_part_is_started_again_and_the_rest_keeps_running(dev_stack: DevStack) -> None:
    before = dev_stack.part_pids()
    api_url = dev_stack.settings()["API_URL"]
    os.kill(before["WORKER"], signal.SIGKILL)
    os.kill(before["API"], signal.SIGKILL)

    def restarted() -> bool:
        now = dev_stack.part_pids()
        return all(now[p] != before[p] and not gone(now[p]) for p in ("WORKER", "API"))

    wait_for(restarted, 120, dev_stack.supervisor, "the worker and the API started again")
    wait_for(lambda: http_answers(f"{api_url}/health/live"), 60, dev_stack.supervisor, "the API answering again")
    log = dev_stack.supervisor.log_tail(400)
    assert "worker exited unexpectedly" in log and "Restarting worker in 1 s" in log
    assert "api is running again" in log
    after = dev_stack.part_pids()
    assert all(after[p] == before[p] and not gone(after[p]) for p in before if p not in ("WORKER", "API"))
    assert dev_stack.supervisor.alive()


# Last in this file: it ends the module's stack.
def test_killing_the_supervisor_outright_stops_every_part(dev_stack: DevStack) -> None:
    parts = dev_stack.part_pids()
    assert {"MONGO", "FCM_EMULATOR", "PAYMENT_SIMULATOR", "API", "WORKER"} <= set(parts)
    assert all(not gone(pid) for pid in parts.values())
    os.kill(dev_stack.supervisor.pid, signal.SIGKILL)
    try:
        wait_for(lambda: all(gone(pid) for pid in parts.values()), 60, None, "every part of the stack ending")
    except DevStackError:
        left = {name: pid for name, pid in parts.items() if not gone(pid)}
        pytest.fail(f"still running after the supervisor was killed: {json.dumps(left)}")

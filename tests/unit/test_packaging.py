"""What ships, read from the files that decide it (no Docker engine runs in CI): the wheel
holds only production code, the production image installs only that wheel and its runtime
dependencies, and `docker compose up` on a laptop gives a working, pinned, well-wired system."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from app.config import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCKERFILE = (REPO / "Dockerfile").read_text()
PRODUCTION_PACKAGES = {"app", "models", "workers", "notifications"}
APP_SERVICES = ("init", "api", "worker", "api-2", "worker-2")
# Opened by a citizen's browser on the laptop, not called from inside a container.
BROWSER_URLS = {"PAYMENT_PROVIDER_URL"}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


def _value(text: str) -> str:
    """A compose value with ${VAR:-default} / ${VAR-default} read as its default."""
    return re.sub(r"\$\{\w+:?-([^}]*)\}", r"\1", str(text))


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m)", duration)
    assert match, duration
    return int(match[1]) * {"ms": 0.001, "s": 1, "m": 60}[match[2]]


def _stages() -> dict[str, str]:
    """Each build stage's text by name (the last, unnamed one as 'final')."""
    parts = re.split(r"^FROM ", DOCKERFILE, flags=re.MULTILINE)[1:]
    named = {}
    for part in parts:
        header = part.splitlines()[0]
        name = header.split(" AS ")[1].strip() if " AS " in header else "final"
        named[name] = part
    return named


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    uv = os.environ.get("UV") or shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    if not Path(uv).exists():
        pytest.skip("uv is not installed (`make install` installs it)")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([uv, "build", "--wheel", "--out-dir", str(out), str(REPO)], check=True, capture_output=True)
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_the_wheel_holds_production_code_and_its_data_only(wheel_files: list[str]) -> None:
    tops = {name.split("/")[0] for name in wheel_files}
    assert tops - {t for t in tops if t.endswith(".dist-info")} == PRODUCTION_PACKAGES
    for name in wheel_files:
        assert not re.search(r"(^|/)(devtools|tests|bench|secantus)(/|$)", name), name
        assert "emulator" not in name and "simulator" not in name, name
    assert {"models/data/services.json", "models/data/holidays_vn.json"} <= set(wheel_files)
    metadata = next(n for n in wheel_files if n.endswith(".dist-info/METADATA"))
    assert metadata  # the runtime requirements are checked below, from pyproject


def test_the_embedded_store_and_dev_tools_are_not_runtime_dependencies() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    runtime = " ".join(project["project"]["dependencies"]).lower()
    assert "secantus" not in runtime and "pytest" not in runtime
    assert any(d.startswith("secantusdb") for d in project["dependency-groups"]["dev"])
    assert set(project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]) == PRODUCTION_PACKAGES


def test_the_production_image_installs_the_wheel_without_dev_or_bench_groups() -> None:
    stages = _stages()
    syncs = re.findall(r"uv sync[^\n]*", stages["builder"])
    assert syncs and all("--no-dev" in s and "--no-group bench" in s and "--frozen" in s for s in syncs)
    assert "--no-editable" in syncs[-1]
    # The runtime takes only the built environment from the builder: no sources, no devtools.
    runtime = stages["runtime"]
    assert re.findall(r"^COPY .*$", runtime, flags=re.MULTILINE) == ["COPY --from=builder /app/.venv /app/.venv"]
    assert "devtools" not in stages["final"] and stages["final"].startswith("runtime")
    assert "COPY devtools" in stages["devtools"]
    assert "--no-dev" in DOCKERFILE and "USER app" in runtime


def test_images_are_pinned_to_exact_versions() -> None:
    python = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, flags=re.MULTILINE)
    assert python and re.fullmatch(r"python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", python[1])
    assert re.search(r"^ARG UV_VERSION=\d+\.\d+\.\d+$", DOCKERFILE, flags=re.MULTILINE)
    for name, service in SERVICES.items():
        if "build" in service:
            continue  # our own image, tagged by CWALLET_TAG
        assert re.fullmatch(r"[\w/-]+:\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?", service["image"]), (name, service["image"])


def test_a_one_shot_step_loads_the_catalogue_and_demo_data_before_the_app_starts() -> None:
    init = SERVICES["init"]
    assert "seed-demo" in init["command"] and init["restart"] == "no"
    for name in ("api", "worker"):
        assert SERVICES[name]["depends_on"]["init"] == {"condition": "service_completed_successfully"}


def test_every_url_the_containers_use_names_a_service_of_the_network() -> None:
    loopback_defaults = {
        f.upper()
        for f in Settings.__struct_fields__
        if re.search(r"//(127\.0\.0\.1|localhost)", str(getattr(Settings(), f)))
    }
    assert {"REDIS_URL", "PAYMENT_PROVIDER_URL", "PAYMENT_NOTIFY_URL"} <= loopback_defaults
    for name in APP_SERVICES:
        env = {k: _value(v) for k, v in SERVICES[name]["environment"].items()}
        assert loopback_defaults <= set(env), f"{name} falls back to loopback for {loopback_defaults - set(env)}"
        for key, value in env.items():
            if "://" not in value or key in BROWSER_URLS:
                continue
            host = urlsplit(value).hostname
            assert host in SERVICES and host not in LOOPBACK, (name, key, value)


def test_pushes_go_to_the_emulator_unless_fcm_credentials_are_given() -> None:
    env = SERVICES["worker"]["environment"]
    assert _value(env["ENVIRONMENT"]) == "production"
    # Unset FCM_ENDPOINT means the emulator; production refuses to start with neither it nor
    # credentials (tests/unit/app/test_settings.py).
    assert urlsplit(_value(env["FCM_ENDPOINT"])).hostname == "fcm-emulator"
    assert "FCM_CREDENTIALS" in env


def test_the_api_finishes_its_requests_within_dockers_stop_grace() -> None:
    cmd = re.search(r'"--timeout-graceful-shutdown", "(\d+)"', DOCKERFILE)
    assert cmd
    for name in ("api", "api-2"):
        grace = _seconds(SERVICES[name].get("stop_grace_period", "10s"))  # Docker's default: 10 s
        assert int(cmd[1]) < grace, (name, cmd[1], grace)
    assert _seconds(SERVICES["worker"]["stop_grace_period"]) > 10


def test_the_scale_profile_has_two_apis_two_workers_and_a_three_member_replica_set() -> None:
    scale = {name for name, s in SERVICES.items() if "scale" in s.get("profiles", [])}
    always = {name for name, s in SERVICES.items() if not s.get("profiles")}
    runs = lambda command: [n for n in always | scale if command(SERVICES[n].get("command"))]  # noqa: E731
    apis = [n for n in always | scale if n.startswith("api")]
    workers = runs(lambda c: c is not None and c[-2:] == ["-m", "workers"])
    mongods = runs(lambda c: c is not None and c[0] == "mongod" and "rs0" in c)
    assert len(apis) == 2 and len(workers) == 2 and len(mongods) == 3, (apis, workers, mongods)
    adder = " ".join(SERVICES["mongo-members"]["command"])
    assert all(f"{n}:27017" in adder for n in mongods if n != "mongo") and "rs.add" in adder
    published = [p for n in apis for p in SERVICES[n]["ports"]]
    assert len({_value(p).split(":")[0] for p in published}) == 2  # each API on a port of its own

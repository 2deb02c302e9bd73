"""The ASGI server never rewrites the client address from forwarded headers: only the app does,
from TRUSTED_PROXIES (uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench.servers import ServerOptions, server_argv

ROOT = Path(__file__).resolve().parents[3]


def test_the_images_uvicorn_does_not_believe_proxy_headers() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    commands = [json.loads(line.removeprefix("CMD ")) for line in dockerfile.splitlines() if line.startswith("CMD [")]
    uvicorn = [argv for argv in commands if "uvicorn" in argv]
    assert uvicorn, "the image's CMD runs uvicorn"
    for argv in uvicorn:
        assert "--no-proxy-headers" in argv
        assert not any(re.match(r"--(proxy-headers|forwarded-allow-ips)", arg) for arg in argv)


def test_the_benchmarked_uvicorn_runs_as_the_image_does() -> None:
    assert "--no-proxy-headers" in server_argv(ServerOptions("uvicorn", 1), "app.main:create_app", 8000)

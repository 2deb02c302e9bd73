# syntax=docker/dockerfile:1.7
# One image for the API (default CMD) and the worker (`python -m workers`),
# holding only what production imports: the project installed as a wheel (app, models,
# workers, notifications) and its runtime dependencies, without the dev and bench groups
# (no embedded store, no test tools). The `devtools` stage adds the FCM emulator and the
# payment simulator for `docker compose` on a laptop; production never runs it.
# Exact tag (bump on purpose; add its @sha256 digest where your registry mirrors it).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- builder: the locked dependencies into /app/.venv ------------------------------------
FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies first (a layer that changes only with uv.lock), then the project itself.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-group bench --no-install-project
COPY . /src
# The project as a wheel, not an editable link to the sources: /src stays in this stage.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-group bench --no-editable --project /src

# --- runtime -----------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app \
       --shell /usr/sbin/nologin app
# The venv stays owned by root: the service user can read it, not change it.
COPY --from=builder /app/.venv /app/.venv
WORKDIR /app
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER app
EXPOSE 8000
# python, not curl: the slim image has no curl. The worker overrides this (docker-compose.yml).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=3).status == 200 else 1)"]
# Uvicorn, one worker per CPU given to the container (WEB_CONCURRENCY, which uvicorn reads),
# no access log of its own: the app logs every request already, without query strings.
# Why: docs/decisions/ (ASGI server), figures from `make bench`. --no-proxy-headers: the app alone
# decides the client address, believing forwarded headers from TRUSTED_PROXIES only (decision 0018).
ENV WEB_CONCURRENCY=1
# The graceful shutdown (20 s) fits inside the stop grace docker-compose.yml gives the API (30 s).
CMD ["uvicorn", "--factory", "app.main:create_app", "--host", "0.0.0.0", "--port", "8000", "--timeout-graceful-shutdown", "20", "--no-access-log", "--no-proxy-headers"]

# --- devtools: the local FCM emulator and payment simulator (docker compose on a laptop) --
FROM runtime AS devtools
COPY devtools /app/devtools
CMD ["python", "-m", "devtools.fcm_emulator", "--host", "0.0.0.0", "--port", "9099"]

# The default target stays the production image.
FROM runtime

# syntax=docker/dockerfile:1.7
# One image for the API (default CMD) and the worker (`arq workers.settings.WorkerSettings`).
ARG PYTHON_IMAGE=python:3.11-slim

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
    uv sync --frozen --no-dev --no-install-project
COPY . /app
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev \
    && python -m compileall -q app models workers notifications

# --- runtime -----------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app \
       --shell /usr/sbin/nologin app
# Code and venv stay owned by root: the service user can read them, not change them.
COPY --from=builder /app /app
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
CMD ["uvicorn", "--factory", "app.main:create_app", "--host", "0.0.0.0", "--port", "8000", "--timeout-graceful-shutdown", "20", "--no-access-log", "--no-proxy-headers"]

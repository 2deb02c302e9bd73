# Citizen Wallet — developer entry points. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

UV_VERSION := 0.13.9
PYTHON ?= python3
REDIS_URL ?= redis://127.0.0.1:6379/0
export REDIS_URL
LOCAL := .local
PYTEST_ARGS ?=
BENCH_ARGS ?=

# The uv binary: on PATH, else where `pip install [--user]` put it (~/.local/bin is often
# not on PATH). On a Debian-managed python3 (PEP 668) uv goes to the user site, which is
# safe: it is a standalone binary and touches no system package. Recursive (=) on purpose: it is looked up again after `uv-bin` installed it.
UV = $(shell command -v uv 2>/dev/null || for d in "$$($(PYTHON) -m site --user-base)/bin" \
	"$$($(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"; do \
	[ -x "$$d/uv" ] && { echo "$$d/uv"; break; }; done)
RUN = $(UV) run --frozen

# Prints "host port" of REDIS_URL, or exits 1 when nothing answers a PING there. Stdlib
# only, so it works before `make install`. Any RESP reply (+PONG, even -NOAUTH) will do.
define REDIS_PROBE
import socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
host, port = u.hostname or "127.0.0.1", u.port or 6379
print(host, port)
try:
    with socket.create_connection((host, port), timeout=2) as s:
        s.sendall(b"PING\r\n")
        sys.exit(0 if s.recv(64)[:1] in (b"+", b"-") else 1)
except OSError:
    sys.exit(1)
endef
export REDIS_PROBE
redis_answers = $(PYTHON) -c "$$REDIS_PROBE" "$(REDIS_URL)" >/dev/null

.PHONY: help install uv-bin redis redis-bin tools-bin chromium-bin run test pytest lint format bench bench-tools clean

help: ## Show this list
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-9s %s\n", $$1, $$2}'
	@echo "  Variables: REDIS_URL=$(REDIS_URL)  PYTEST_ARGS='-k name -x'  API_PORT=8000"
	@echo "  While 'make run' is up, a second terminal: source .local/stack.env (URLs), uv run cwallet ..."

uv-bin:
	@if [ -z "$(UV)" ]; then \
		echo "uv not found: installing uv==$(UV_VERSION) with pip"; \
		$(PYTHON) -m pip install --quiet --user "uv==$(UV_VERSION)" 2>/dev/null \
			|| $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)" 2>/dev/null \
			|| $(PYTHON) -m pip install --quiet --user --break-system-packages "uv==$(UV_VERSION)"; \
	fi

install: uv-bin ## Install uv if missing, then the locked dependencies into .venv
	@test -n "$(UV)" || { echo "uv is still not found after pip installed it" >&2; exit 1; }
	$(UV) sync --frozen
	@command -v uv >/dev/null || echo "note: uv is at $(UV), not on your PATH. For the README's" \
		"\`uv run ...\` commands: export PATH=\"$(dir $(UV)):\$$PATH\" (or add that line to ~/.profile)."

redis-bin: # install redis-server with apt-get when it is missing (root or sudo needed)
	@command -v redis-server >/dev/null && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "redis-server is missing and installing it needs root or sudo. Install Redis 7" \
		"(e.g. apt-get install redis-server), or set REDIS_URL to a running server." >&2; exit 1; fi; \
	command -v apt-get >/dev/null || { echo "redis-server is missing and there is no apt-get:" \
		"install Redis 7 yourself, or set REDIS_URL to a running server." >&2; exit 1; }; \
	echo "Installing redis-server with apt-get ..."; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
		--no-install-recommends redis-server >/dev/null

tools-bin: # install jq and curl (the README's walkthrough uses them) with apt-get when missing
	@command -v jq >/dev/null && command -v curl >/dev/null && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "note: the README's walkthrough needs jq and curl: apt-get install jq curl" >&2; exit 0; fi; \
	command -v apt-get >/dev/null || { echo "note: the README's walkthrough needs jq and curl" >&2; exit 0; }; \
	echo "Installing jq and curl with apt-get ..."; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
		--no-install-recommends jq curl >/dev/null

chromium-bin: # install Debian's chromium (the console's browser tests drive it) with apt-get when missing
	@test -x /usr/bin/chromium && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "/usr/bin/chromium is missing and installing it needs root or sudo: the console's browser" \
		"tests drive it (apt-get install chromium)." >&2; exit 1; fi; \
	command -v apt-get >/dev/null || { echo "/usr/bin/chromium is missing and there is no apt-get:" \
		"install Chromium there yourself (the console's browser tests drive it)." >&2; exit 1; }; \
	echo "Installing chromium with apt-get ..."; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
		--no-install-recommends chromium >/dev/null

redis: ## Make sure Redis answers at REDIS_URL (starts a local one, no persistence, if not)
	@if $(redis_answers); then echo "Redis answers at $(REDIS_URL)"; exit 0; fi; \
	read -r host port <<<"$$($(PYTHON) -c "$$REDIS_PROBE" "$(REDIS_URL)" || true)"; \
	case "$$host" in 127.0.0.1|localhost|::1) ;; \
		*) echo "Redis at $(REDIS_URL) does not answer, and it is not local to start" >&2; exit 1;; \
	esac; \
	$(MAKE) redis-bin; mkdir -p $(LOCAL); \
	redis-server --daemonize yes --bind 127.0.0.1 --port "$$port" --save "" --appendonly no \
		--dir "$(CURDIR)/$(LOCAL)" --logfile "$(CURDIR)/$(LOCAL)/redis.log" \
		--pidfile "$(CURDIR)/$(LOCAL)/redis.pid"; \
	for _ in $$(seq 50); do $(redis_answers) && break; sleep 0.1; done; \
	if $(redis_answers); then echo "Started Redis on 127.0.0.1:$$port (pid $$(cat $(LOCAL)/redis.pid 2>/dev/null)," \
		"log $(LOCAL)/redis.log; stop it with: redis-cli -p $$port shutdown)"; \
	else echo "Redis did not start; last lines of $(LOCAL)/redis.log:" >&2; \
		tail -n 20 $(LOCAL)/redis.log >&2 || true; exit 1; fi

run: install tools-bin ## Run the whole stack locally (API, worker, store, Redis, FCM emulator); ~1 min to start
	@$(redis_answers) || command -v redis-server >/dev/null || $(MAKE) redis-bin
	$(RUN) python -m devtools.devrun

# Redis: used when one answers at REDIS_URL, else started for the run and stopped at its end.
test: install tools-bin chromium-bin ## Everything CI runs: lint, types, import contracts, tests (~10 min on 2 free cores)
	@$(redis_answers) || command -v redis-server >/dev/null || $(MAKE) redis-bin
	$(RUN) python -m devtools.checks $(PYTEST_ARGS)

pytest: install tools-bin chromium-bin ## Only the tests (PYTEST_ARGS='-k name -x' to narrow)
	@$(redis_answers) || command -v redis-server >/dev/null || $(MAKE) redis-bin
	$(RUN) python -m devtools.checks --only-pytest $(PYTEST_ARGS)

lint: install ## ruff, mypy and the import contracts
	$(RUN) ruff check .
	$(RUN) mypy
	$(RUN) lint-imports

format: install ## Apply ruff's fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

bench-tools: # install wrk and h2load (Debian's packages) when missing (root or sudo needed)
	@command -v wrk >/dev/null && command -v h2load >/dev/null && command -v taskset >/dev/null && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "wrk, h2load or taskset is missing and installing them needs root or sudo:" \
		"apt-get install wrk nghttp2-client util-linux" >&2; exit 1; fi; \
	command -v apt-get >/dev/null || { echo "wrk, h2load or taskset is missing and there is no apt-get:" \
		"install wrk 4, h2load (nghttp2) and taskset yourself." >&2; exit 1; }; \
	echo "Installing wrk and h2load with apt-get ..."; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
		--no-install-recommends wrk nghttp2-client util-linux >/dev/null

bench: install redis bench-tools ## Benchmarks: a table and bench/results/latest.json (BENCH_ARGS=--quick)
	$(RUN) python -m bench $(BENCH_ARGS)

clean: ## Delete local data (.local/: store, logs, JWT secret) and tool caches
	@if [ -f $(LOCAL)/redis.pid ] && kill -0 "$$(cat $(LOCAL)/redis.pid)" 2>/dev/null; then \
		echo "note: the Redis started by 'make redis' (pid $$(cat $(LOCAL)/redis.pid)) keeps running;" \
			"stop it with: redis-cli -u $(REDIS_URL) shutdown"; fi
	rm -rf $(LOCAL) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache

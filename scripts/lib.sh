# Shared by scripts/up and scripts/test: set-up steps that a fresh machine needs.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The components are wasm32-wasip2 builds: a wasip2 build is a component,
# which a wasmtime host loads directly.
ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    say "adding the wasm32-wasip2 target"
    rustup target add wasm32-wasip2
  fi
}

# One build for every crate under functions/: the same commands spin.toml's
# [component.X.build] run, in one cargo invocation so shared code builds once.
build_components() {
  ensure_wasm_target
  say "building the browser apps (web/: the staff console and the reader's app)"
  bash "$ROOT/scripts/build-web"
  local packages=()
  for dir in functions/*/; do
    packages+=(-p "wangjie-$(basename "$dir")")
  done
  say "building the components ($(( ${#packages[@]} / 2 )) crates, wasm32-wasip2 release)"
  cargo build --quiet --target wasm32-wasip2 --release "${packages[@]}"
}

# Puts the key-value store's SQLite file under state dir $1 in WAL mode.
# The mode is kept in the file, so `spin up` on the same .spin/ uses it
# too: a commit then syncs the log once instead of the rollback journal's
# four syncs, and a locker's steady heartbeat commits twice
# (docs/benchmarks.md, "Heartbeats"). The file is Spin's usual one.
kv_wal() {
  mkdir -p "$1"
  python3 - "$1/sqlite_key_value.db" <<'PY'
import sqlite3, sys
mode = sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL").fetchone()[0]
assert mode == "wal", mode
PY
}

build_host() {
  say "building the local Spin host (tests/host)"
  cargo build --quiet -p wangjie-host
}

# The binaries the contract suite runs: the local host serves the app, and
# wangjie-fakes is judged by the SDKs and signs WeChat readers in.
build_contract_binaries() {
  say "building the local Spin host and the fake providers (tests/host, tests/fakes)"
  cargo build --quiet -p wangjie-host -p wangjie-fakes
}

# A Python virtual environment at $1 (under the repository) with the pinned
# requirements file $2, made on first use and again when the file changes.
ensure_venv() {
  local venv="$ROOT/$1" requirements="$2"
  local stamp="$venv/requirements.installed"
  if [ -x "$venv/bin/python" ] && cmp -s "$requirements" "$stamp"; then
    return
  fi
  say "setting up a Python environment ($1, from $requirements)"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
}

# The contract suite's judges (python-alipay-sdk, wechatpy, pytest; pinned in
# tests/contract/requirements.txt) in their own virtual environment,
# .venv-contract/.
ensure_contract_venv() {
  ensure_venv .venv-contract tests/contract/requirements.txt
}

# The app and our fakes against the providers' official SDKs (tests/contract).
run_contract_suite() {
  ensure_contract_venv
  say "running the contract suite (tests/contract: python-alipay-sdk, wechatpy)"
  PYTHONDONTWRITEBYTECODE=1 "$ROOT/.venv-contract/bin/python" -m pytest -p no:cacheprovider \
    -q tests/contract
}

# The API judged by its own spec (tests/schema): schemathesis, pinned in
# tests/schema/requirements.txt and installed in .venv-schema/, runs every
# check over every operation of docs/openapi.yaml against the app on the
# local host and PostgreSQL, with reader, staff and admin credentials; a
# fixed seed, and at most SCHEMA_BUDGET_S seconds (default 210). Needs the
# binaries of build_contract_binaries and the components.
run_schema_suite() {
  ensure_venv .venv-schema tests/schema/requirements.txt
  say "running the schema suite (tests/schema: schemathesis against docs/openapi.yaml)"
  PYTHONDONTWRITEBYTECODE=1 "$ROOT/.venv-schema/bin/python" tests/schema/run.py
}

# PostgreSQL and Redis are started before a session on this kind of
# machine; CI and a restarted machine may find them down.
ensure_services() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    say "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 1 30); do redis-cli ping >/dev/null 2>&1 && break; sleep 1; done
  fi
  psql -h 127.0.0.1 -U postgres -d test -qAtc 'SELECT 1' >/dev/null \
    || { echo "PostgreSQL at 127.0.0.1:5432 does not accept user postgres on database test" >&2; exit 1; }
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null \
    || { echo "Redis at 127.0.0.1:6379 does not answer" >&2; exit 1; }
}

# Debian's Chromium, which the browser tests drive (never a browser of a
# test tool's own download), and CJK fonts, without which every Chinese
# character renders as a box in the screenshots.
ensure_chromium() {
  if [ -x /usr/bin/chromium ] && [ -d /usr/share/fonts/opentype/noto ]; then
    return
  fi
  say "installing Debian's chromium and fonts-noto-cjk for the browser tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
}

# The console and the reader's app in Chromium (tests/browser: node's test
# runner, playwright-core, axe-core from tests/browser/package-lock.json).
run_browser_suite() {
  ensure_chromium
  if [ ! -f tests/browser/node_modules/.package-lock.json ] \
    || ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.installed-lock.json; then
    say "installing the browser tests' npm packages (tests/browser)"
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error \
      && cp package-lock.json node_modules/.installed-lock.json)
  fi
  export WANGJIE_SCREENSHOTS="$ROOT/target/browser-screenshots"
  say "running the browser tests (tests/browser, Chromium); screenshots in $WANGJIE_SCREENSHOTS"
  (cd tests/browser && node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs)
}

"""The API judged by its own spec: schemathesis against docs/openapi.yaml.

Starts what the contract suite starts (tests/contract/conftest.py): our
fake providers (`wangjie-fakes`) and the app served by the local host from
`spin.toml`, here on a fresh PostgreSQL database, with the abuse limits
lifted. Migrates, loads a small demo library so that ids exist, signs a
reader in (Alipay, through the fakes), a member of staff in (the demo's
librarian S0002 at B001) and takes the admin token; then runs
`schemathesis run` with tests/schema/schemathesis.toml (every check, a
fixed seed, a bounded number of examples per operation) and the hooks in
tests/schema/hooks.py (each operation's credentials; locker requests
signed as a locker signs them). Exits with schemathesis' status, so any
failure fails scripts/test.

scripts/test builds `target/debug/wangjie-host`, `target/debug/wangjie-fakes`
and the wasm components first; `WANGJIE_TARGET_DIR` says where they are
when it is not `target/`. `SCHEMA_BUDGET_S` bounds the schemathesis run
(wall clock, default 210 s): past it the run is stopped and fails.
"""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TARGET = Path(os.environ.get("WANGJIE_TARGET_DIR", ROOT / "target"))
PG = "postgres://postgres@127.0.0.1:5432"
ADMIN_TOKEN = "schema-admin-token"
SESSION_KEY = "schema-session-key-of-at-least-32-bytes"
LOCKER_MASTER_KEY = "schema-locker-master-key"
STAFF_NO, STAFF_PASSWORD = "S0002", "wangjie-demo"
# Small enough to load in seconds, big enough that low ids exist.
DEMO = "records=300&readers=20&history_days=2&history_per_day=20"


def say(message):
    print(f"\033[1m==> {message}\033[0m", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def psql(sql, database="test"):
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qAtc", sql],
        check=True, stdout=subprocess.DEVNULL,
    )


def start_fakes():
    """`wangjie-fakes` and the variables it prints."""
    binary = TARGET / "debug" / "wangjie-fakes"
    if not binary.exists():
        sys.exit(f"{binary} is missing: cargo build -p wangjie-fakes")
    process = subprocess.Popen([str(binary)], stdout=subprocess.PIPE, text=True)
    variables = {}
    for line in process.stdout:
        line = line.strip()
        if line == "# ready":
            return process, variables
        if line.startswith("export SPIN_VARIABLE_"):
            name, _, value = line[len("export SPIN_VARIABLE_"):].partition("=")
            variables[name.lower()] = value.strip("'").replace("\\n", "\n")
    sys.exit("wangjie-fakes exited before it was ready")


def start_host(variables, state, log):
    host = TARGET / "debug" / "wangjie-host"
    if not host.exists():
        sys.exit(f"{host} is missing: cargo build -p wangjie-host")
    url = f"http://127.0.0.1:{free_port()}"
    env = dict(os.environ)
    for name, value in variables.items():
        env["SPIN_VARIABLE_" + name.upper()] = value
    process = subprocess.Popen(
        [str(host), "up", "--from", str(ROOT / "spin.toml"),
         "--listen", url.removeprefix("http://"), "--state-dir", str(state)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 300
    while True:
        if process.poll() is not None:
            sys.exit(f"the host exited; its log: {log.name}")
        try:
            requests.get(url + "/api/health", timeout=2)
            return process, url
        except requests.ConnectionError:
            if time.time() > deadline:
                sys.exit(f"the host did not listen; its log: {log.name}")
            time.sleep(0.3)


def expect(response, status=None):
    ok = response.ok if status is None else response.status_code == status
    if not ok:
        sys.exit(f"{response.request.method} {response.request.url}: "
                 f"{response.status_code} {response.text}")
    return response.json()


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_schemathesis(url, env, budget):
    report = Path(os.environ.get("SCHEMA_REPORT_DIR", TARGET / "schema-report"))
    say(f"running schemathesis against docs/openapi.yaml at {url} "
        f"(at most {budget} s; report in {report})")
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file", str(HERE / "schemathesis.toml"),
        "run", str(ROOT / "docs" / "openapi.yaml"),
        "--url", url,
        "--report", "junit", "--report-dir", str(report),
    ]
    run = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        return run.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGTERM)
        try:
            run.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
        print(f"schemathesis did not finish in {budget} s", file=sys.stderr)
        return 1


def main():
    # Stopped (Ctrl-C, a CI timeout): still stop the app and drop its database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    budget = int(os.environ.get("SCHEMA_BUDGET_S", "210"))
    database = f"wangjie_schema_{secrets.token_hex(6)}"
    started = []
    state = Path(tempfile.mkdtemp(prefix="wangjie-schema-"))
    log_path = state / "host.log"
    keep = False
    psql(f"CREATE DATABASE {database}")
    try:
        with open(log_path, "w") as log:
            fakes, variables = start_fakes()
            started.append(fakes)
            variables.update({
                "admin_token": ADMIN_TOKEN,
                "session_key": SESSION_KEY,
                "locker_master_key": LOCKER_MASTER_KEY,
                "database_url": f"{PG}/{database}?sslmode=disable",
                # One client signs in and checks credit far more often than
                # a person would: the abuse limits are lifted (as in the
                # contract and e2e suites).
                "sign_in_per_ip_per_minute": "100000",
                "staff_sign_in_per_staff_no_per_hour": "100000",
                "credit_checks_per_reader_per_hour": "100000",
                "credit_checks_per_ip_per_hour": "100000",
            })
            host, url = start_host(variables, state / "spin", log)
            started.append(host)
            admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            say(f"migrating and loading a small demo library ({DEMO})")
            expect(requests.post(url + "/admin/migrate", headers=admin, timeout=120))
            expect(requests.post(url + f"/admin/demo?{DEMO}", headers=admin, timeout=300))
            reader = expect(requests.post(
                url + "/api/session/alipay", json={"auth_code": "demo-sesame-720"}, timeout=60))
            # A credit check, so that the reader may borrow (POST /api/orders).
            expect(requests.post(
                url + "/api/me/credit", json={"source": "sesame", "auth_code": "demo-sesame-720"},
                headers={"Authorization": f"Bearer {reader['token']}"}, timeout=60))
            staff = expect(requests.post(
                url + "/api/staff/session",
                json={"staff_no": STAFF_NO, "password": STAFF_PASSWORD}, timeout=60))
            lockers = expect(requests.get(url + "/admin/lockers", headers=admin, timeout=60))
            env = dict(os.environ)
            env.update({
                "WANGJIE_URL": url,
                "WANGJIE_ADMIN_TOKEN": ADMIN_TOKEN,
                "WANGJIE_READER_TOKEN": reader["token"],
                "WANGJIE_STAFF_TOKEN": staff["token"],
                "WANGJIE_STAFF_NO": STAFF_NO,
                "WANGJIE_STAFF_PASSWORD": STAFF_PASSWORD,
                "WANGJIE_LOCKER_MASTER_KEY": LOCKER_MASTER_KEY,
                "WANGJIE_LOCKER_ID": lockers["lockers"][0]["id"],
                "PYTHONPATH": str(HERE),
            })
            if "--serve" in sys.argv[1:]:
                # For working on the suite: the app stays up, and
                # `schemathesis --config-file tests/schema/schemathesis.toml
                # run docs/openapi.yaml --url $WANGJIE_URL` runs against it.
                for name, value in env.items():
                    if name.startswith("WANGJIE_") or name in ("PYTHONPATH",):
                        print(f"export {name}='{value}'", flush=True)
                print(f"# serving; the app's log: {log_path}", flush=True)
                keep = True
                host.wait()
                return 1
            code = run_schemathesis(url, env, budget)
            if code != 0:
                print(f"the app's log: {log_path} (kept)", file=sys.stderr)
                keep = True
            return code
    finally:
        for process in reversed(started):
            stop(process)
        psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        if not keep:
            shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""The contract suite's set-up: fresh RSA keys, the Alipay gateway played by
python-alipay-sdk (alipay_gateway.py), our Rust fake providers as the
standalone `wangjie-fakes` binary (for WeChat sign-in, and to be judged
themselves), and the app served by the local host from `spin.toml`, once
with WeChat in plain mode and once in safe mode.

scripts/test builds `target/debug/wangjie-host`, `target/debug/wangjie-fakes`
and the wasm components before it runs this suite; `WANGJIE_TARGET_DIR`
says where they are when it is not `target/`.
"""

import base64
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from alipay_gateway import Gateway

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("WANGJIE_TARGET_DIR", ROOT / "target"))
ADMIN_TOKEN = "contract-admin-token"
SESSION_KEY = "contract-session-key-of-at-least-32-bytes"
ALIPAY_APP_ID = "2021000000000042"
WECHAT_TOKEN = "contractWechatToken"
# The official account whose pushes we accept (safe mode seals with it).
OFFICIAL_APPID = "wx5823bf96d3bd56c7"
# Its own user name, as WeChat puts it in ToUserName.
ACCOUNT = "gh_contract00001"


class KeyPair:
    """An RSA 2048 key pair as PEM text: PKCS#8 private, SPKI public."""

    def __init__(self):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        ).decode()


@pytest.fixture(scope="session")
def app_keys():
    """Our app's key pair: we sign with the private half."""
    return KeyPair()


@pytest.fixture(scope="session")
def alipay_keys():
    """Alipay's key pair: it signs answers and notifications."""
    return KeyPair()


@pytest.fixture(scope="session")
def gateway(app_keys, alipay_keys):
    gateway = Gateway(ALIPAY_APP_ID, app_keys.public_pem, alipay_keys.private_pem).start()
    yield gateway
    gateway.stop()


@pytest.fixture(scope="session")
def fakes():
    """`wangjie-fakes`: the variables it prints (`alipay_origin`, ...)."""
    binary = TARGET / "debug" / "wangjie-fakes"
    assert binary.exists(), f"{binary} is missing: cargo build -p wangjie-fakes"
    process = subprocess.Popen([str(binary)], stdout=subprocess.PIPE, text=True)
    variables = {}
    deadline = time.time() + 120
    for line in process.stdout:
        line = line.strip()
        if line == "# ready":
            break
        if line.startswith("export SPIN_VARIABLE_"):
            name, _, value = line[len("export SPIN_VARIABLE_"):].partition("=")
            variables[name.lower()] = value.strip("'").replace("\\n", "\n")
        assert time.time() < deadline, "wangjie-fakes did not start"
    else:
        pytest.fail("wangjie-fakes exited before it was ready")
    yield variables
    process.terminate()
    process.wait(timeout=10)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class App:
    """One app served by `wangjie-host up` from spin.toml, with its own
    state directory and SQLite database. `log()` is what it wrote to stderr:
    the operator's log."""

    def __init__(self, variables):
        self.state = tempfile.TemporaryDirectory(prefix="wangjie-contract-")
        self.url = f"http://127.0.0.1:{free_port()}"
        env = dict(os.environ)
        for name, value in variables.items():
            env["SPIN_VARIABLE_" + name.upper()] = value
        self.log_path = Path(self.state.name) / "host.log"
        self.log_file = open(self.log_path, "w")
        host = TARGET / "debug" / "wangjie-host"
        assert host.exists(), f"{host} is missing: cargo build -p wangjie-host"
        self.process = subprocess.Popen(
            [str(host), "up", "--from", str(ROOT / "spin.toml"),
             "--listen", self.url.removeprefix("http://"),
             "--state-dir", str(Path(self.state.name) / "spin")],
            cwd=ROOT, env=env, stdout=self.log_file, stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 300
        while True:
            assert self.process.poll() is None, f"the host exited:\n{self.log()}"
            try:
                requests.get(self.url + "/api/health", timeout=2)
                break
            except requests.ConnectionError:
                assert time.time() < deadline, f"the host did not listen:\n{self.log()}"
                time.sleep(0.3)
        migrated = self.admin("POST", "/admin/migrate")
        assert migrated.status_code == 200, migrated.text

    def log(self):
        self.log_file.flush()
        return self.log_path.read_text(errors="replace")

    def admin(self, method, path, **kwargs):
        headers = kwargs.pop("headers", {})
        headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        return requests.request(method, self.url + path, headers=headers, timeout=60, **kwargs)

    def post(self, path, json=None, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.post(self.url + path, json=json, headers=headers, timeout=60, **kwargs)

    def get(self, path, token=None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(self.url + path, headers=headers, timeout=60, **kwargs)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log_file.close()
        self.state.cleanup()


def app_variables(gateway, fakes, app_keys, alipay_keys):
    return {
        "admin_token": ADMIN_TOKEN,
        "session_key": SESSION_KEY,
        "alipay_origin": gateway.url,
        "alipay_app_id": ALIPAY_APP_ID,
        "alipay_app_private_key": app_keys.private_pem,
        "alipay_public_key": alipay_keys.public_pem,
        "alipay_notify_url": "https://wangjie.example/webhooks/alipay",
        "wechat_origin": fakes["wechat_origin"],
        "wechat_appid": fakes["wechat_appid"],
        "wechat_secret": fakes["wechat_secret"],
        "wechat_token": WECHAT_TOKEN,
        "wechat_official_appid": OFFICIAL_APPID,
        "alipay_templates": '{"ready_for_pickup": "TPL-CONTRACT-READY"}',
        "provider_timeout_ms": "5000",
        # One app serves the whole session, signing in far more often than
        # a person would from one address: the abuse limits are lifted.
        "sign_in_per_ip_per_minute": "100000",
        "staff_sign_in_per_staff_no_per_hour": "100000",
        "credit_checks_per_reader_per_hour": "100000",
        "credit_checks_per_ip_per_hour": "100000",
    }


@pytest.fixture(scope="session")
def app(gateway, fakes, app_keys, alipay_keys):
    """The app with Alipay at the SDK's gateway and WeChat in plain mode."""
    app = App(app_variables(gateway, fakes, app_keys, alipay_keys))
    yield app
    app.stop()


@pytest.fixture(scope="session")
def encoding_aes_key():
    """A fresh 43-character EncodingAESKey, as WeChat's console makes them."""
    return base64.b64encode(os.urandom(32)).decode().rstrip("=")


@pytest.fixture(scope="session")
def safe_app(gateway, fakes, app_keys, alipay_keys, encoding_aes_key):
    """The same app with WeChat's safe mode on, and Sesame asked for its
    admit decision (`zhima.credit.score.brief.get`) rather than the score."""
    variables = app_variables(gateway, fakes, app_keys, alipay_keys)
    variables["wechat_encoding_aes_key"] = encoding_aes_key
    variables["sesame_product"] = "admit"
    app = App(variables)
    yield app
    app.stop()

"""`make lab`, the README's main command, through its real command line: headless, as whoever runs the tests.

As root (every Docker container) JupyterLab refuses to start without --allow-root; the Makefile adds it
for root only. The test starts `make lab` with this Python's environment as the venv (the stamp file is
treated as done, so nothing is installed), waits until the server answers, opens a notebook through the
contents API and shuts the server down.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)

pytestmark = pytest.mark.skipif(shutil.which("make") is None or not (VENV / "bin" / "jupyter").exists(),
                                reason="needs make and jupyter in this Python's environment")


def make_lab(*variables):
    stamp = VENV / ".installed"
    return ["make", "--no-print-directory", "-C", str(ROOT), "lab", f"VENV={VENV}", "-o", str(stamp), *variables]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_allow_root_is_added_for_root_only():
    as_root = subprocess.run(make_lab("USER_ID=0") + ["-n"], capture_output=True, text=True, check=True).stdout
    as_user = subprocess.run(make_lab("USER_ID=1000") + ["-n"], capture_output=True, text=True, check=True).stdout
    assert "jupyter lab notebooks/ --allow-root" in as_root
    assert "--allow-root" not in as_user and "jupyter lab notebooks/" in as_user


def request(url, token, method="GET"):
    call = urllib.request.Request(url, method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(call, timeout=5) as response:
        return json.loads(response.read() or b"null")


def test_make_lab_serves_the_notebooks_headless(tmp_path):
    port, token = free_port(), "zygote-nb-test"
    options = (f"LAB_OPTIONS=--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token={token} "
               f"--ServerApp.root_dir={ROOT / 'notebooks'}")
    environment = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path), JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    server = subprocess.Popen(make_lab(options), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=environment, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, f"make lab stopped: {server.stdout.read()}"
            try:
                status = request(f"{base}/api/status", token)
                break
            except OSError:
                assert time.monotonic() < deadline, "JupyterLab did not answer within two minutes"
                time.sleep(0.5)
        assert "started" in status
        notebook = request(f"{base}/api/contents/01_tour.ipynb", token)
        assert notebook["type"] == "notebook" and notebook["content"]["cells"]
        request(f"{base}/api/shutdown", token, method="POST")
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

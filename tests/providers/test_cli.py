"""`stormproof providers` in a real subprocess: URLs printed, services up, clean stop."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading

import requests

ENTRY = "from stormproof.chaos.cli import main; main()"


def _start(*args):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", ENTRY, "providers", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _read_until(proc, marker, timeout=30):
    lines: queue.Queue[str | None] = queue.Queue()

    def pump():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen = []
    while True:
        line = lines.get(timeout=timeout)
        if line is None:
            return seen, lines
        seen.append(line.rstrip("\n"))
        if marker in line:
            return seen, lines


def test_cli_serves_all_three_and_stops_on_ctrl_c():
    proc = _start("--port-base", "0", "--test-mode")
    try:
        seen, rest = _read_until(proc, "Press Ctrl-C")
        urls = dict(
            line.split()
            for line in seen
            if line.split()[0] in {"users", "notifications", "payments"}
        )
        assert set(urls) == {"users", "notifications", "payments"}
        assert "test mode: on (/_test endpoints enabled)" in seen
        for service, url in urls.items():
            assert url.startswith("http://127.0.0.1:")
            assert requests.get(url + "/healthz", timeout=5).json() == {
                "status": "ok",
                "service": service,
            }
            assert requests.get(url + "/_test/requests", timeout=5).status_code == 200
        created = requests.post(
            urls["users"] + "/users", json={"email": "a@b.co", "name": "A"}, timeout=5
        )
        assert created.status_code == 201
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        tail = []
        while (line := rest.get(timeout=5)) is not None:
            tail.append(line)
        assert "stopped\n" in tail
        assert "users POST /users -> 201 in" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


def test_cli_without_test_mode_hides_test_endpoints():
    proc = _start("--port-base", "0")
    try:
        seen, _ = _read_until(proc, "Press Ctrl-C")
        assert "test mode: off" in seen
        url = next(line.split()[1] for line in seen if line.startswith("payments"))
        assert requests.get(url + "/_test/ledger", timeout=5).status_code == 404
        proc.terminate()
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


def test_busy_port_is_a_clear_error_without_traceback():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                ENTRY,
                "providers",
                "--port-base",
                "0",
                "--notifications-port",
                str(port),
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"error: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_invalid_port_is_a_usage_error():
    result = subprocess.run(
        [sys.executable, "-c", ENTRY, "providers", "--users-port", "70000"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "invalid users 70000" in result.stderr

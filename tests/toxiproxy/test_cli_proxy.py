"""``stormproof proxy``: a drop-in for toxiproxy-server, with clear errors."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

from typer.testing import CliRunner

from stormproof.chaos.cli import app
from stormproof.chaos.toxiproxy import ToxiproxyClient, ToxiproxyConnectionError
from tests.toxiproxy._net import free_port


def test_busy_port_is_a_clear_error_without_traceback():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["proxy", "--port", str(port)])
    assert result.exit_code == 1
    assert "address already in use" in result.output
    assert "Traceback" not in result.output


def test_bad_config_file_is_a_clear_error(tmp_path):
    path = tmp_path / "c.json"
    path.write_text("[{oops")
    result = CliRunner().invoke(app, ["proxy", "--port", "0", "--config", str(path)])
    assert result.exit_code == 1
    assert "not valid JSON" in result.output
    assert "Traceback" not in result.output


def test_serves_config_proxies_and_stops_on_sigterm(tmp_path):
    port = free_port()
    config = tmp_path / "toxiproxy.json"
    config.write_text(
        json.dumps([{"name": "db", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}])
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from stormproof.chaos.cli import main; main()",
            "proxy",
            "-host",
            "127.0.0.1",
            "-port",
            str(port),
            "-config",
            str(config),
            "-seed",
            "7",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        api = ToxiproxyClient(f"http://127.0.0.1:{port}", timeout=2)
        deadline = time.monotonic() + 15
        while True:
            try:
                proxies = api.proxies()
                break
            except ToxiproxyConnectionError:
                assert time.monotonic() < deadline, process.stderr
                time.sleep(0.1)
        assert list(proxies) == ["db"]
        api.close()
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    events = [json.loads(line).get("event") for line in out.decode().splitlines() if line]
    assert "proxy.created" in events
    assert "server.stopped" in events


def test_version_flag_prints_the_toxiproxy_version():
    result = CliRunner().invoke(app, ["proxy", "-version"])
    assert result.exit_code == 0
    assert result.output.startswith("toxiproxy-server version 2.12.0")

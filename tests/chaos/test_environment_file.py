import pytest

from stormproof.chaos.runner import ChaosEnvironmentError, read_environment_file

GOOD = """
toxiproxy_url: ${TOXIPROXY_URL:-http://127.0.0.1:8474}
services:
  users: {proxy: users, listen: "127.0.0.1:21001", upstream: "127.0.0.1:9001",
          client_url: "http://127.0.0.1:21001", provider_url: "${USERS_URL}"}
  notifications: {proxy: notifications, listen: "127.0.0.1:21002", upstream: "127.0.0.1:9002",
          client_url: "http://127.0.0.1:21002", provider_url: "http://127.0.0.1:9002"}
  payments: {proxy: payments, listen: "127.0.0.1:21003", upstream: "127.0.0.1:9003",
          client_url: "http://127.0.0.1:21003", provider_url: "http://127.0.0.1:9003"}
"""


def test_variables_and_defaults_are_expanded(tmp_path):
    path = tmp_path / "env.yaml"
    path.write_text(GOOD)
    url, services = read_environment_file(path, {"USERS_URL": "http://127.0.0.1:9001"})
    assert url == "http://127.0.0.1:8474"
    assert services["users"].provider_url == "http://127.0.0.1:9001"
    assert services["payments"].client_url == "http://127.0.0.1:21003"


def test_a_missing_variable_is_named(tmp_path):
    path = tmp_path / "env.yaml"
    path.write_text(GOOD)
    with pytest.raises(ChaosEnvironmentError, match="not set and without a default: USERS_URL"):
        read_environment_file(path, {})


def test_a_missing_service_and_a_bad_field_are_named(tmp_path):
    path = tmp_path / "env.yaml"
    path.write_text("toxiproxy_url: http://x\nservices:\n  users: {proxy: u}\n")
    with pytest.raises(ChaosEnvironmentError, match=r"services\.users\.listen: Field required"):
        read_environment_file(path, {})
    with pytest.raises(ChaosEnvironmentError, match="cannot read the environment file"):
        read_environment_file(tmp_path / "nope.yaml", {})

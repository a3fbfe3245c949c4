"""`stormproof pact publish|verify|can-i-deploy` against a stand-in broker that records requests."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stormproof.chaos._cli_pact import pact_app
from stormproof.chaos.cli import app as stormproof_app
from stormproof.chaos.pact import BrokerConfig, BrokerConfigError
from tests.pact._standin_broker import StandInBroker, load_pacts, published_contracts

ROOT = Path(__file__).resolve().parents[2]
PACTS = ROOT / "contracts" / "pacts"
BROKER_VARS = (
    "PACT_BROKER_BASE_URL",
    "PACT_BROKER_TOKEN",
    "PACT_BROKER_USERNAME",
    "PACT_BROKER_PASSWORD",
    "STORMPROOF_PACT_VERSION",
    "STORMPROOF_PACT_BRANCH",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in BROKER_VARS:
        monkeypatch.delenv(name, raising=False)
    # The stand-in answers every request; a real broker's 5xx would be retried with backoff.
    monkeypatch.setenv("PACT_BROKER_HTTP_RETRIES", "0")
    monkeypatch.chdir(ROOT)


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInBroker]:
    with StandInBroker() as stand_in:
        monkeypatch.setenv("PACT_BROKER_BASE_URL", stand_in.url)
        monkeypatch.setenv("PACT_BROKER_TOKEN", "t0ken-for-tests")
        yield stand_in


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(pact_app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize("command", ["publish", "verify", "can-i-deploy"])
def test_without_a_broker_every_command_says_what_is_missing(command: str) -> None:
    code, output = _invoke(command)
    assert code == 2
    assert "PACT_BROKER_BASE_URL" in output
    assert "PACT_BROKER_TOKEN (or PACT_BROKER_USERNAME and PACT_BROKER_PASSWORD)" in output
    assert "Traceback" not in output


def test_half_configured_basic_auth_names_the_missing_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PACT_BROKER_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PACT_BROKER_USERNAME", "ci")
    code, output = _invoke("publish")
    assert code == 2
    assert "set PACT_BROKER_PASSWORD" in output
    assert "PACT_BROKER_BASE_URL" not in output


def test_config_never_shows_secrets() -> None:
    config = BrokerConfig.from_env(
        {"PACT_BROKER_BASE_URL": "http://b/", "PACT_BROKER_TOKEN": "s3cret"}
    )
    assert config.base_url == "http://b"
    assert "s3cret" not in repr(config)
    with pytest.raises(BrokerConfigError, match="not both"):
        BrokerConfig.from_env(
            {
                "PACT_BROKER_BASE_URL": "http://b",
                "PACT_BROKER_TOKEN": "t",
                "PACT_BROKER_USERNAME": "u",
                "PACT_BROKER_PASSWORD": "p",
            }
        )


def test_publish_sends_every_pact_with_version_and_branch(broker: StandInBroker) -> None:
    code, output = _invoke("publish", "--version", "1a2b3c", "--branch", "feature/retry")
    assert code == 0, output
    assert "published contracts/pacts as stormproof-clients 1a2b3c" in output
    # The broker's notices reach the user (the CLI parsed our publish answer without warnings).
    assert output.count("published to the stand-in broker") == 3
    assert "Warning" not in output
    posts = broker.received("POST", "/contracts/publish")
    assert len(posts) == 3
    providers = set()
    for post in posts:
        assert post.headers["authorization"] == "Bearer t0ken-for-tests"
        assert post.body["pacticipantName"] == "stormproof-clients"
        assert post.body["pacticipantVersionNumber"] == "1a2b3c"
        assert post.body["branch"] == "feature/retry"
        (contract,) = post.body["contracts"]
        assert contract["consumerName"] == "stormproof-clients"
        assert contract["specification"] == "pact"
        (document,) = published_contracts(post)
        providers.add(document["provider"]["name"])
        assert document["interactions"]
    assert providers == {"users-service", "notifications-service", "payments-service"}


def test_publish_defaults_to_the_git_commit_and_branch(
    broker: StandInBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    git("init", "-q", "-b", "feature-x")
    (tmp_path / "f.txt").write_text("x", encoding="utf-8")
    git("add", "f.txt")
    git("commit", "-q", "-m", "one")
    monkeypatch.chdir(tmp_path)
    code, output = _invoke("publish", "--pact-dir", str(PACTS))
    assert code == 0, output
    body = broker.received("POST", "/contracts/publish")[0].body
    assert body["pacticipantVersionNumber"] == git("rev-parse", "HEAD")
    assert body["branch"] == "feature-x"

    git("checkout", "-q", "--detach")
    code, output = _invoke("publish", "--pact-dir", str(PACTS))
    assert code == 0, output
    assert "branch" not in broker.received("POST", "/contracts/publish")[-1].body


def test_publish_outside_git_needs_a_version(
    broker: StandInBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    code, output = _invoke("publish", "--pact-dir", str(PACTS))
    assert code == 2
    assert "pass --version" in output
    assert broker.requests == []


def test_publish_with_basic_auth_and_version_from_env(
    broker: StandInBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PACT_BROKER_TOKEN")
    monkeypatch.setenv("PACT_BROKER_USERNAME", "ci")
    monkeypatch.setenv("PACT_BROKER_PASSWORD", "pw")
    monkeypatch.setenv("STORMPROOF_PACT_VERSION", "from-env")
    code, output = _invoke("publish", "--branch", "main")
    assert code == 0, output
    post = broker.received("POST", "/contracts/publish")[0]
    assert post.headers["authorization"] == "Basic " + base64.b64encode(b"ci:pw").decode()
    assert post.body["pacticipantVersionNumber"] == "from-env"


def test_publish_an_empty_folder_is_refused(broker: StandInBroker, tmp_path: Path) -> None:
    code, output = _invoke("publish", "--pact-dir", str(tmp_path), "--version", "x")
    assert code == 2
    assert "no pact files" in output
    assert broker.requests == []


@pytest.mark.parametrize(("deployable", "expected_code"), [(True, 0), (False, 1)])
def test_can_i_deploy_asks_the_matrix(
    broker: StandInBroker, deployable: bool, expected_code: int
) -> None:
    broker.deployable = deployable
    code, output = _invoke("can-i-deploy", "--version", "1a2b3c", "--to-environment", "staging")
    assert code == expected_code, output
    (request,) = broker.received("GET", "/matrix")
    assert request.query["q[][pacticipant]"] == ["stormproof-clients"]
    assert request.query["q[][version]"] == ["1a2b3c"]
    assert request.query["environment"] == ["staging"]
    assert request.headers["authorization"] == "Bearer t0ken-for-tests"


def test_verify_from_the_broker_publishes_results(broker: StandInBroker) -> None:
    broker.pacts = [
        p for p in load_pacts(PACTS) if p["provider"]["name"] == "notifications-service"
    ]
    code, output = _invoke(
        "verify",
        "--provider",
        "notifications-service",
        "--version",
        "9f8e7d",
        "--branch",
        "main",
        "--include-wip-since",
        "2026-01-01",
    )
    assert code == 0, output
    assert "notifications-service: passed, 9 of 9 interactions verified" in output
    # Our state pre-check reads the pacts once, then pact's verifier does.
    searches = broker.received("POST", "/pacts/provider/notifications-service/for-verification")
    assert len(searches) == 2
    for search in searches:
        assert search.headers["authorization"] == "Bearer t0ken-for-tests"
        assert search.body["consumerVersionSelectors"] == [
            {"mainBranch": True},
            {"matchingBranch": True},
            {"deployedOrReleased": True},
        ]
        assert search.body["includePendingStatus"] is True
        assert search.body["includeWipPactsSince"] == "2026-01-01"
        assert search.body["providerVersionBranch"] == "main"
    (branch_version,) = broker.received("PUT", "/pacticipants/notifications-service/branches/")
    assert branch_version.path.endswith("/branches/main/versions/9f8e7d")
    (results,) = broker.received("POST", "/pacts/provider/notifications-service/consumer/")
    assert results.path.endswith("/verification-results")
    assert results.body["providerApplicationVersion"] == "9f8e7d"
    assert results.body["success"] is True


def test_verify_without_publishing_and_default_wip_window(broker: StandInBroker) -> None:
    broker.pacts = [p for p in load_pacts(PACTS) if p["provider"]["name"] == "users-service"]
    code, output = _invoke(
        "verify", "--provider", "users-service", "--version", "v1", "--no-publish"
    )
    assert code == 0, output
    search = broker.received("POST", "/pacts/provider/users-service/for-verification")[0]
    assert search.body["includeWipPactsSince"] == (date.today() - timedelta(days=30)).isoformat()
    assert broker.received("POST", "/pacts/provider/users-service/consumer/") == []


def test_verify_fails_fast_on_a_broker_pact_with_unknown_states(broker: StandInBroker) -> None:
    pact = next(p for p in load_pacts(PACTS) if p["provider"]["name"] == "payments-service")
    pact["interactions"][0]["providerStates"] = [{"name": "a dragon guards payment pay_1"}]
    broker.pacts = [pact]
    code, output = _invoke("verify", "--provider", "payments-service", "--version", "v1")
    assert code == 1
    assert "'a dragon guards payment pay_1'" in output
    assert "1 of 1 provider(s) failed verification" in output
    assert len(broker.received("POST", "/pacts/provider/payments-service/for-verification")) == 1


def test_verify_reports_an_unreachable_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    with StandInBroker() as stand_in:
        url = stand_in.url
    monkeypatch.setenv("PACT_BROKER_BASE_URL", url)
    monkeypatch.setenv("PACT_BROKER_TOKEN", "t")
    code, output = _invoke("verify", "--provider", "users-service", "--version", "v1")
    assert code == 1
    assert f"could not read the pacts for users-service from {url}" in output


def test_verify_rejects_a_bad_date(broker: StandInBroker) -> None:
    code, output = _invoke("verify", "--version", "v1", "--include-wip-since", "last week")
    assert code == 2
    assert "--include-wip-since must be a date" in output


def test_registered_as_stormproof_pact() -> None:
    result = CliRunner().invoke(stormproof_app, ["pact", "--help"])
    assert result.exit_code == 0, result.output
    for command in ("publish", "verify", "can-i-deploy"):
        assert command in result.output

"""Pact Broker steps: publish pacts, verify a provider from the broker, can-i-deploy.

Publishing and can-i-deploy run the ``pact`` binary of ``pact-python-cli``; credentials reach it
through its environment (``PACT_BROKER_*``), never its command line. Verification runs pact's
``Verifier`` in-process against the reference provider, after checking that every provider state
in the broker's pacts has a handler.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from stormproof.chaos.pact._env import ensure_do_not_track, pact_cli_path
from stormproof.chaos.pact._files import provider_states
from stormproof.chaos.pact._result import VerificationResult
from stormproof.chaos.pact._verify import (
    missing_states_problem,
    new_verifier,
    provider_under_test,
    run_verifier,
)

__all__ = [
    "DEFAULT_SELECTORS",
    "BrokerCommandResult",
    "BrokerConfig",
    "BrokerConfigError",
    "can_i_deploy",
    "publish_pacts",
    "verify_from_broker",
]

BASE_URL_VAR = "PACT_BROKER_BASE_URL"
TOKEN_VAR = "PACT_BROKER_TOKEN"  # noqa: S105 - a variable name, not a secret
USERNAME_VAR = "PACT_BROKER_USERNAME"
PASSWORD_VAR = "PACT_BROKER_PASSWORD"  # noqa: S105 - a variable name, not a secret

DEFAULT_SELECTORS: tuple[Mapping[str, Any], ...] = (
    {"mainBranch": True},
    {"matchingBranch": True},
    {"deployedOrReleased": True},
)
"""Consumer version selectors: main branch, the same branch as the provider, and deployed."""

_TIMEOUT_S = 120.0

# Broker API spelling -> keyword of pact's BrokerSelectorBuilder.consumer_version.
_SELECTOR_KEYWORDS = {
    "consumer": "consumer",
    "tag": "tag",
    "fallbackTag": "fallback_tag",
    "latest": "latest",
    "deployedOrReleased": "deployed_or_released",
    "deployed": "deployed",
    "released": "released",
    "environment": "environment",
    "mainBranch": "main_branch",
    "branch": "branch",
    "matchingBranch": "matching_branch",
    "fallbackBranch": "fallback_branch",
}


def _selector_keywords(selector: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(selector) - set(_SELECTOR_KEYWORDS))
    if unknown:
        known = ", ".join(_SELECTOR_KEYWORDS)
        raise ValueError(f"unknown consumer version selector key(s) {unknown}; known: {known}")
    return {_SELECTOR_KEYWORDS[key]: value for key, value in selector.items()}


class BrokerConfigError(ValueError):
    """The Pact Broker is not configured (or configured inconsistently); the message says how."""


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """Where the Pact Broker is and how to authenticate.

    Attributes:
        base_url: Broker root URL.
        token: Bearer token (PactFlow and brokers with token auth).
        username: Basic-auth user name.
        password: Basic-auth password.
    """

    base_url: str
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BrokerConfig:
        """Read ``PACT_BROKER_BASE_URL`` and a token or username and password.

        Args:
            environ: The variables to read (``os.environ`` when None).

        Returns:
            The configuration.

        Raises:
            BrokerConfigError: Something is missing; the message lists what to set.
        """
        env = os.environ if environ is None else environ
        url = env.get(BASE_URL_VAR, "").strip()
        token = env.get(TOKEN_VAR, "").strip() or None
        user = env.get(USERNAME_VAR, "").strip() or None
        password = env.get(PASSWORD_VAR, "") or None
        missing: list[str] = []
        if not url:
            missing.append(BASE_URL_VAR)
        if token is None and user is None and password is None:
            missing.append(f"{TOKEN_VAR} (or {USERNAME_VAR} and {PASSWORD_VAR})")
        elif token is None and user is None:
            missing.append(USERNAME_VAR)
        elif token is None and password is None:
            missing.append(PASSWORD_VAR)
        if missing:
            raise BrokerConfigError(
                "the Pact Broker is not configured: set " + " and ".join(missing) + ". "
                "Broker steps are optional; the local pact files in contracts/pacts are "
                "verified by the test suite without a broker."
            )
        if token is not None and (user is not None or password is not None):
            raise BrokerConfigError(
                f"set either {TOKEN_VAR} or {USERNAME_VAR}/{PASSWORD_VAR}, not both"
            )
        return cls(url.rstrip("/"), token, user, password)

    def cli_environment(self) -> dict[str, str]:
        """The environment for the ``pact`` binary: ours plus the broker variables."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in (BASE_URL_VAR, TOKEN_VAR, USERNAME_VAR, PASSWORD_VAR)
        }
        env[BASE_URL_VAR] = self.base_url
        for name, value in (
            (TOKEN_VAR, self.token),
            (USERNAME_VAR, self.username),
            (PASSWORD_VAR, self.password),
        ):
            if value is not None:
                env[name] = value
        env["PACT_DO_NOT_TRACK"] = "true"
        return env


@dataclass(frozen=True, slots=True)
class BrokerCommandResult:
    """A finished ``pact broker ...`` command.

    Attributes:
        command: Its arguments (credentials are never among them).
        returncode: Its exit status (0: success; can-i-deploy: 1 means "no").
        output: What it printed (stdout, then stderr).
    """

    command: tuple[str, ...]
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        """Whether the command succeeded."""
        return self.returncode == 0


def _run_cli(config: BrokerConfig, args: Sequence[str], timeout_s: float) -> BrokerCommandResult:
    command = (str(pact_cli_path()), "broker", *args)
    try:
        done = subprocess.run(  # noqa: S603 - our own argument list, no shell
            command,
            env=config.cli_environment(),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return BrokerCommandResult(command, 124, f"timed out after {timeout_s:.0f} s")
    return BrokerCommandResult(command, done.returncode, done.stdout + done.stderr)


def publish_pacts(
    config: BrokerConfig,
    pact_dir: Path,
    *,
    version: str,
    branch: str | None,
    tags: Sequence[str] = (),
    build_url: str | None = None,
    timeout_s: float = _TIMEOUT_S,
) -> BrokerCommandResult:
    """Publish every pact file of a folder as one consumer version.

    Args:
        config: The broker.
        pact_dir: Folder of pact files (``contracts/pacts``).
        version: Consumer version, normally the git commit.
        branch: The consumer version's git branch (None on a detached HEAD).
        tags: Extra version tags (branches and environments are preferred).
        build_url: Link to the CI build that made the pacts.
        timeout_s: Bound on the command.

    Returns:
        The finished ``pact broker publish`` command.

    Raises:
        FileNotFoundError: The folder has no pact files, or the ``pact`` binary is missing.
    """
    if not any(pact_dir.glob("*.json")):
        raise FileNotFoundError(f"no pact files (*.json) in {pact_dir}")
    args = ["publish", str(pact_dir), "--consumer-app-version", version]
    if branch:
        args += ["--branch", branch]
    for tag in tags:
        args += ["--tag", tag]
    if build_url:
        args += ["--build-url", build_url]
    return _run_cli(config, args, timeout_s)


def can_i_deploy(
    config: BrokerConfig,
    pacticipant: str,
    *,
    version: str,
    to_environment: str,
    timeout_s: float = _TIMEOUT_S,
) -> BrokerCommandResult:
    """Ask the broker whether a version can be deployed to an environment.

    Args:
        config: The broker.
        pacticipant: Application name (``stormproof-clients``, ``users-service``).
        version: Its version (the git commit it was published with).
        to_environment: Target environment (``production``).
        timeout_s: Bound on the command.

    Returns:
        The finished ``pact broker can-i-deploy`` command (``ok``: "yes").
    """
    args = [
        "can-i-deploy",
        "--pacticipant",
        pacticipant,
        "--version",
        version,
        "--to-environment",
        to_environment,
    ]
    return _run_cli(config, args, timeout_s)


def _auth(config: BrokerConfig) -> dict[str, Any]:
    if config.token is not None:
        return {"headers": {"Authorization": f"Bearer {config.token}"}}
    return {"auth": (config.username or "", config.password or "")}


def _pacts_for_verification(
    config: BrokerConfig, provider: str, body: Mapping[str, Any]
) -> list[dict[str, Any]]:
    import requests  # noqa: PLC0415

    accept = {"Accept": "application/hal+json, application/json"}
    with requests.Session() as session:
        session.trust_env = False
        auth = _auth(config)
        session.headers.update({**accept, **auth.get("headers", {})})
        session.auth = auth.get("auth")
        index = session.get(config.base_url + "/", timeout=30)
        index.raise_for_status()
        template = index.json()["_links"]["pb:provider-pacts-for-verification"]["href"]
        url = str(template).replace("{provider}", quote(provider, safe=""))
        found = session.post(url, json=dict(body), timeout=30)
        found.raise_for_status()
        documents = []
        for item in found.json().get("_embedded", {}).get("pacts", []):
            pact = session.get(item["_links"]["self"]["href"], timeout=30)
            pact.raise_for_status()
            documents.append(pact.json())
        return documents


def verify_from_broker(
    config: BrokerConfig,
    provider: str,
    *,
    provider_version: str,
    provider_branch: str | None,
    base_url: str | None = None,
    selectors: Sequence[Mapping[str, Any]] = DEFAULT_SELECTORS,
    include_wip_since: date | None = None,
    publish: bool = True,
) -> VerificationResult:
    """Verify a provider against the pacts the broker selects, and publish the results.

    Pending pacts are included (their failures do not fail the run) and so are work-in-progress
    pacts since ``include_wip_since``. The pacts are read once before verifying so that states
    without a handler fail fast, as in :func:`verify_provider`.

    Args:
        config: The broker.
        provider: Provider name (``users-service``).
        provider_version: The provider version results are published for (git commit).
        provider_branch: The provider's git branch.
        base_url: A running provider; the declared service's provider is started when None.
        selectors: Consumer version selectors, as the broker API spells them.
        include_wip_since: Include WIP pacts created since this date (None: no WIP pacts).
        publish: Publish the verification results to the broker.

    Returns:
        The result; broker errors become problems of a failed result.

    Raises:
        ValueError: No declared service has this pact provider name, or a selector has an unknown
            key.
    """
    ensure_do_not_track()
    for selector in selectors:
        _selector_keywords(selector)
    body: dict[str, Any] = {
        "consumerVersionSelectors": [dict(s) for s in selectors],
        "includePendingStatus": True,
    }
    if provider_branch:
        body["providerVersionBranch"] = provider_branch
    if include_wip_since is not None:
        body["includeWipPactsSince"] = include_wip_since.isoformat()
    try:
        documents = _pacts_for_verification(config, provider, body)
    except Exception as exc:  # any broker or network failure is reported, not raised
        problem = f"could not read the pacts for {provider} from {config.base_url}: {exc}"
        return VerificationResult(provider=provider, passed=False, problems=(problem,))
    with provider_under_test(provider, base_url=base_url) as (url, adapter):
        missing = adapter.unknown_states(provider_states(documents))
        if missing:
            problem = missing_states_problem(provider, adapter, missing)
            return VerificationResult(provider=provider, passed=False, problems=(problem,))
        state_errors: list[str] = []
        verifier = new_verifier(provider, url, adapter, state_errors)
        if config.token is not None:
            builder = verifier.broker_source(
                config.base_url, token=config.token, selector=True, use_env=False
            )
        else:
            builder = verifier.broker_source(
                config.base_url,
                username=config.username,
                password=config.password,
                selector=True,
                use_env=False,
            )
        builder.include_pending()
        if include_wip_since is not None:
            builder.include_wip_since(include_wip_since)
        if provider_branch:
            builder.provider_branch(provider_branch)
        for selector in selectors:
            builder.consumer_version(**_selector_keywords(selector))
        builder.build()
        if publish:
            verifier.set_publish_options(version=provider_version, branch=provider_branch)
        return run_verifier(verifier, provider, url, state_errors=state_errors)

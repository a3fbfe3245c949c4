"""Pact provider verification and Pact Broker commands, as a small library.

The chaos runner and the contract tests call :func:`verify_provider` (one provider against its
pact files, with the reference provider started for the duration) and
:func:`pact_files_by_provider`; ``stormproof pact publish|verify|can-i-deploy`` use the broker
functions. Pact's telemetry is switched off (``PACT_DO_NOT_TRACK=true``) wherever pact runs.
"""

from stormproof.chaos.pact._broker import (
    DEFAULT_SELECTORS,
    BrokerCommandResult,
    BrokerConfig,
    BrokerConfigError,
    can_i_deploy,
    publish_pacts,
    verify_from_broker,
)
from stormproof.chaos.pact._env import ensure_do_not_track, pact_cli_path
from stormproof.chaos.pact._files import pact_files_by_provider, provider_states, read_pact
from stormproof.chaos.pact._git import git_branch, git_commit
from stormproof.chaos.pact._result import InteractionResult, VerificationResult
from stormproof.chaos.pact._verify import verify_provider

__all__ = [
    "DEFAULT_SELECTORS",
    "BrokerCommandResult",
    "BrokerConfig",
    "BrokerConfigError",
    "InteractionResult",
    "VerificationResult",
    "can_i_deploy",
    "ensure_do_not_track",
    "git_branch",
    "git_commit",
    "pact_cli_path",
    "pact_files_by_provider",
    "provider_states",
    "publish_pacts",
    "read_pact",
    "verify_from_broker",
    "verify_provider",
]

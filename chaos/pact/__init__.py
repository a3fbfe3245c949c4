"""Pact provider verification and Pact Broker commands, as a small library.

The chaos runner and the contract tests call :func:`verify_provider` (one provider against its
pact files, with the reference provider started for the duration) and
:func:`pact_files_by_provider`; ``stormproof pact publish|verify|can-i-deploy`` use the broker
functions. Pact's telemetry is switched off (``PACT_DO_NOT_TRACK=true``) wherever pact runs.
"""

from typing import TYPE_CHECKING

from stormproof.chaos import _lazy

if TYPE_CHECKING:
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

# Lazy: reading a pact file must not load pact's FFI (every matrix worker reads them).
_LAZY = {
    "BrokerCommandResult": "_broker",
    "BrokerConfig": "_broker",
    "BrokerConfigError": "_broker",
    "DEFAULT_SELECTORS": "_broker",
    "InteractionResult": "_result",
    "VerificationResult": "_result",
    "can_i_deploy": "_broker",
    "ensure_do_not_track": "_env",
    "git_branch": "_git",
    "git_commit": "_git",
    "pact_cli_path": "_env",
    "pact_files_by_provider": "_files",
    "provider_states": "_files",
    "publish_pacts": "_broker",
    "read_pact": "_files",
    "verify_from_broker": "_broker",
    "verify_provider": "_verify",
}

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _LAZY)

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

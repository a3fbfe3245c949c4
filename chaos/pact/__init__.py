"""Pact provider verification and Pact Broker commands, as a small library.

The chaos runner and the contract tests call :func:`verify_provider` (one provider against its
pact files, with the reference provider started for the duration) and
:func:`pact_files_by_provider`; ``stormproof pact publish|verify|can-i-deploy`` use the broker
functions. Pact's telemetry is switched off (``PACT_DO_NOT_TRACK=true``) wherever pact runs.
"""

from chaos.pact._env import ensure_do_not_track, pact_cli_path
from chaos.pact._files import pact_files_by_provider, provider_states, read_pact
from chaos.pact._result import InteractionResult, VerificationResult
from chaos.pact._verify import verify_provider

__all__ = [
    "InteractionResult",
    "VerificationResult",
    "ensure_do_not_track",
    "pact_cli_path",
    "pact_files_by_provider",
    "provider_states",
    "read_pact",
    "verify_provider",
]

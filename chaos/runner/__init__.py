"""The chaos runner: environment, fault injection, scenario execution and judgement."""

from stormproof.chaos._options import WEAKENINGS, Weakening
from stormproof.chaos.runner._categories import (
    ALL_CATEGORIES,
    HARNESS_ERROR,
    INCONCLUSIVE,
    INTERRUPTED,
    LEFTOVER_FAULT,
    SIDE_EFFECTS_RANK,
)
from stormproof.chaos.runner._clients import policy_for
from stormproof.chaos.runner._environment import (
    ChaosEnvironment,
    ChaosEnvironmentError,
    ServiceEndpoint,
    read_environment_file,
    start_environment,
)
from stormproof.chaos.runner._injector import (
    FaultInjector,
    describe_fault,
    roll_back,
    roll_back_service,
)
from stormproof.chaos.runner._observer import NullObserver, RunObserver
from stormproof.chaos.runner._readiness import DEFAULT_ATTACH_TIMEOUT_S, wait_until_attached
from stormproof.chaos.runner._records import (
    AttemptRecord,
    BreakerTransition,
    CallRecord,
    Finding,
    PhaseRecord,
    Witness,
)
from stormproof.chaos.runner._runner import (
    ScenarioResult,
    ScenarioRunner,
    Verdict,
    run_scenarios,
    scenario_seed,
)

__all__ = [
    "ALL_CATEGORIES",
    "DEFAULT_ATTACH_TIMEOUT_S",
    "HARNESS_ERROR",
    "INCONCLUSIVE",
    "INTERRUPTED",
    "LEFTOVER_FAULT",
    "SIDE_EFFECTS_RANK",
    "WEAKENINGS",
    "AttemptRecord",
    "BreakerTransition",
    "CallRecord",
    "ChaosEnvironment",
    "ChaosEnvironmentError",
    "FaultInjector",
    "Finding",
    "NullObserver",
    "PhaseRecord",
    "RunObserver",
    "ScenarioResult",
    "ScenarioRunner",
    "ServiceEndpoint",
    "Verdict",
    "Weakening",
    "Witness",
    "describe_fault",
    "policy_for",
    "read_environment_file",
    "roll_back",
    "roll_back_service",
    "run_scenarios",
    "scenario_seed",
    "start_environment",
    "wait_until_attached",
]

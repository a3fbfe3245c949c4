"""Scenario files: the declarative model and its loader."""

from chaos.scenario._loader import (
    ScenarioFileError,
    default_scenario_dir,
    load_scenario,
    load_scenarios,
    scenario_files,
)
from chaos.scenario._model import (
    OK,
    Bounds,
    Call,
    CallExpectation,
    Fault,
    HttpFault,
    HttpFaultSpec,
    LedgerExpectation,
    Phase,
    PhaseExpectation,
    Profile,
    ProxyFault,
    Scenario,
    SetupState,
    ToxicFault,
)

__all__ = [
    "OK",
    "Bounds",
    "Call",
    "CallExpectation",
    "Fault",
    "HttpFault",
    "HttpFaultSpec",
    "LedgerExpectation",
    "Phase",
    "PhaseExpectation",
    "Profile",
    "ProxyFault",
    "Scenario",
    "ScenarioFileError",
    "SetupState",
    "ToxicFault",
    "default_scenario_dir",
    "load_scenario",
    "load_scenarios",
    "scenario_files",
]

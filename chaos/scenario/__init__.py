"""Scenario files: the declarative model and its loader."""

from stormproof.chaos._options import SCENARIO_SUFFIXES
from stormproof.chaos.scenario._faults import Fault, HttpFault, ProxyFault, ToxicFault
from stormproof.chaos.scenario._loader import (
    ScenarioFileError,
    default_scenario_dir,
    load_scenario,
    load_scenarios,
    parse_scenario,
    scenario_files,
)
from stormproof.chaos.scenario._model import (
    OK,
    SCENARIO_POLICY,
    Bounds,
    Call,
    CallExpectation,
    PerKey,
    Phase,
    PhaseExpectation,
    Scenario,
    ScenarioExpectation,
    SetupState,
    matches_selection,
)

__all__ = [
    "OK",
    "SCENARIO_POLICY",
    "SCENARIO_SUFFIXES",
    "Bounds",
    "Call",
    "CallExpectation",
    "Fault",
    "HttpFault",
    "PerKey",
    "Phase",
    "PhaseExpectation",
    "ProxyFault",
    "Scenario",
    "ScenarioExpectation",
    "ScenarioFileError",
    "SetupState",
    "ToxicFault",
    "default_scenario_dir",
    "load_scenario",
    "load_scenarios",
    "matches_selection",
    "parse_scenario",
    "scenario_files",
]

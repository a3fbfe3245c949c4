"""The fault matrix: every interaction of a service's pacts x every fault class, each case a
scenario whose expectation is derived (``stormproof.chaos.matrix._rules``), never written."""

from stormproof.chaos.matrix._build import (
    Excluded,
    Matrix,
    MatrixCase,
    build_matrix,
    case_yaml,
    emit_case,
    service_cases,
)
from stormproof.chaos.matrix._grid import MatrixCell, grid_rows, print_grid
from stormproof.chaos.matrix._interactions import Interaction, match_operation, read_interactions
from stormproof.chaos.matrix._rules import RULES, FaultClass, Plan, Subject, contract_outcome

__all__ = [
    "RULES",
    "Excluded",
    "FaultClass",
    "Interaction",
    "Matrix",
    "MatrixCase",
    "MatrixCell",
    "Plan",
    "Subject",
    "build_matrix",
    "case_yaml",
    "contract_outcome",
    "emit_case",
    "grid_rows",
    "match_operation",
    "print_grid",
    "read_interactions",
    "service_cases",
]

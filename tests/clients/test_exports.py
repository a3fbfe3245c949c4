"""The public surface of ``clients`` is curated: sorted ``__all__``, nothing missing or extra."""

from __future__ import annotations

import ast
import pathlib
import types

from stormproof import clients

DOCUMENTED = {
    # clients
    "ServiceClient",
    "UserServiceClient",
    "NotificationServiceClient",
    "PaymentServiceClient",
    # building a client
    "Operation",
    "RequestModel",
    "ResponseModel",
    "Email",
    "IdempotencyKey",
    "ResourceId",
    "OutcomeUnknownError",
    # models
    "User",
    "UserPage",
    "Notification",
    "Payment",
    "Refund",
    # policies and test mode
    "ResiliencePolicy",
    "RetryPolicy",
    "BreakerPolicy",
    "FleetPolicy",
    "Runtime",
    "testing",
    # events
    "AttemptEvent",
    "CallEvent",
    "BreakerEvent",
    "BreakerState",
    "ClientEvent",
    "EventListener",
    # logging
    "LOGGER_NAME",
    "RedactingFilter",
    # errors
    "ServiceError",
    "ServiceTimeoutError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "DeadlineExceededError",
    "ServiceUnavailableError",
    "ResponseTruncatedError",
    "ServerError",
    "CircuitOpenError",
    "RateLimitedError",
    "ClientRequestError",
    "NotFoundError",
    "ConflictError",
    "RequestValidationError",
    "ResponseValidationError",
    "PaymentOutcomeUnknownError",
    "FieldProblem",
}


def isort_key(name: str) -> tuple[int, str]:
    # ruff's RUF022 order: CONSTANTS, then Classes, then functions and modules.
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


def test_all_is_sorted():
    assert list(clients.__all__) == sorted(clients.__all__, key=isort_key)


def test_all_matches_the_documented_exports():
    assert set(clients.__all__) == DOCUMENTED
    assert len(clients.__all__) == len(DOCUMENTED)


def test_every_export_exists_and_nothing_public_is_left_out():
    for name in clients.__all__:
        assert hasattr(clients, name), name
    public = {
        name
        for name, value in vars(clients).items()
        if not name.startswith("_")
        and not (isinstance(value, types.ModuleType) and name != "testing")
    }
    assert public == set(clients.__all__)


def test_exported_classes_claim_the_package():
    for name in clients.__all__:
        value = getattr(clients, name)
        if isinstance(value, type):
            assert value.__module__.startswith("stormproof.clients."), name


def test_testing_module_exports_are_sorted():
    assert list(clients.testing.__all__) == sorted(clients.testing.__all__)
    assert set(clients.testing.__all__) == {"FakeClock", "instant_runtime", "use_instant_runtime"}


def test_clients_import_nothing_from_chaos_or_providers():
    root = pathlib.Path(clients.__file__).parent
    imported = set()
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add((path.name, node.module))
            elif isinstance(node, ast.Import):
                imported.update((path.name, alias.name) for alias in node.names)
    assert ("_pipeline.py", "stormproof.clients._transport") in imported  # the walk sees imports
    forbidden = [
        (name, module)
        for name, module in imported
        if module.split(".")[:2] in (["stormproof", "chaos"], ["stormproof", "providers"])
        or module.split(".")[0] in ("chaos", "providers")
    ]
    assert forbidden == []

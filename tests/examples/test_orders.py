"""examples/orders, a team's own service on stormproof's public API, run as its team runs it.

`stormproof run` from the example's folder verifies its contract and runs its scenarios; weakened
clients fail the scenarios that guard against them; its consumer pact test writes the committed
pact; and it imports nothing but public names of stormproof.
"""

import ast
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.pactfiles import normalise
from stormproof.chaos.matrix import build_matrix
from stormproof.chaos.services import ProviderAdapter, load_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "orders"
STORMPROOF = Path(sys.executable).parent / "stormproof"
CONTRACT = "verify orders-service"
# The orders service has no fault API: its HTTP faults come from the embedded proxy's http toxic.
HTTP_SCENARIOS = {
    "orders-429-retry-after",
    "orders-503-then-success",
    "orders-create-503-after-created-once",
    "orders-create-answer-lost",
    "orders-slow-first-byte-deadline",
    "orders-truncated-body-read-retried",
}
SCENARIOS = HTTP_SCENARIOS | {
    "orders-blackhole-timeout",
    "orders-breaker-lifecycle",
    "orders-create-reset-before-send",
    "orders-create-truncated-created-once",
    "orders-latency-above-read-timeout",
    "orders-latency-below-read-timeout",
    "orders-outage-then-recovery",
    "orders-slow-drip-deadline",
}
# The scenarios each weakening must fail (and no others).
CAUGHT = {
    "no-retries": {
        "orders-429-retry-after",
        "orders-503-then-success",
        "orders-blackhole-timeout",
        "orders-create-503-after-created-once",
        "orders-create-answer-lost",
        "orders-create-reset-before-send",
        "orders-create-truncated-created-once",
        "orders-latency-above-read-timeout",
        "orders-outage-then-recovery",
        "orders-truncated-body-read-retried",
    },
    "no-breaker": {"orders-breaker-lifecycle"},
    "no-deadline": {"orders-slow-drip-deadline", "orders-slow-first-byte-deadline"},
}
CATEGORY = {
    "no-retries": "Did not retry",
    "no-breaker": "Breaker did not open",
    "no-deadline": "Deadline exceeded",
}

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    env = {**os.environ, "PACT_DO_NOT_TRACK": "true", "COLUMNS": "200"}
    env.pop("TOXIPROXY_URL", None)
    return env


def _run(output: Path, *extra: str) -> tuple[int, dict[str, tuple[str, str]], str]:
    """`stormproof run` in the example's folder: exit status, {test name: (status, message)}."""
    done = subprocess.run(
        [str(STORMPROOF), "run", "--no-html", "--output", str(output), *extra],
        cwd=EXAMPLE, env=_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    results: dict[str, tuple[str, str]] = {}
    for path in output.glob("*-result.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        message = (document.get("statusDetails") or {}).get("message", "")
        results[document["name"]] = (document["status"], message)
    return done.returncode, results, done.stdout[-6000:] + done.stderr[-3000:]


def test_stormproof_run_passes_the_contract_and_the_scenarios(tmp_path):
    code, results, said = _run(tmp_path / "results")
    assert code == 0, said
    assert set(results) == {CONTRACT, *SCENARIOS}, said
    assert results[CONTRACT][0] == "passed", results[CONTRACT]
    not_passed = {name: result for name, result in results.items() if result[0] != "passed"}
    assert not_passed == {}, said


@pytest.mark.parametrize("weaken", sorted(CAUGHT))
def test_a_weakened_client_fails_the_scenarios_that_guard_against_it(tmp_path, weaken):
    code, results, said = _run(tmp_path / "results", "--no-contracts", "--weaken", weaken)
    assert code != 0, said
    assert set(results) == SCENARIOS, said
    failed = {name for name, (status, _) in results.items() if status == "failed"}
    assert failed == CAUGHT[weaken], said
    for name in CAUGHT[weaken]:
        assert CATEGORY[weaken] in results[name][1], (name, results[name])
    others = SCENARIOS - CAUGHT[weaken]
    assert {name: results[name] for name in others if results[name][0] != "passed"} == {}


def test_the_matrix_comes_from_the_orders_pact_with_no_extra_code(tmp_path):

    matrix = build_matrix(load_config(EXAMPLE / "pyproject.toml").activate())
    rows = {case.interaction.description for case in matrix.cases}
    assert len(rows) == 6
    assert len(matrix.cases) >= 70
    # One row of it, run as the team runs it: keyed creates, through the proxy's HTTP toxics.
    done = subprocess.run(
        [str(STORMPROOF), "matrix", "--no-html", "--output", str(tmp_path / "results"),
         "--select", "matrix.orders.a-request-to-create-an-order.", "--workers", "3"],
        cwd=EXAMPLE, env=_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    said = done.stdout[-6000:] + done.stderr[-3000:]
    assert done.returncode == 0, said
    assert "13 matrix cases: 13 passed" in done.stdout, said


def test_the_consumer_pact_test_writes_the_committed_pact(tmp_path):
    env = {**_env(), "ORDERS_PACT_OUTPUT": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"],
        cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "6 passed" in done.stdout
    committed = sorted(p.name for p in (EXAMPLE / "pacts").glob("*.json"))
    assert (
        committed
        == sorted(p.name for p in tmp_path.glob("*.json"))
        == ["orders-client-orders-service.json"]
    )
    for name in committed:
        fresh = normalise(json.loads((tmp_path / name).read_text(encoding="utf-8")))
        kept = normalise(json.loads((EXAMPLE / "pacts" / name).read_text(encoding="utf-8")))
        assert fresh == kept, (
            f"examples/orders/pacts/{name} is stale: regenerate it (examples/orders/README.md)"
        )


# ------------------------------------------------------------------ public API only


def _stormproof_imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every `stormproof...` import in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [
                (node.lineno, alias.name, [])
                for alias in node.names
                if alias.name.split(".")[0] == "stormproof"
            ]
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").split(".")[0] == "stormproof"
        ):
            found.append((node.lineno, str(node.module), [alias.name for alias in node.names]))
    return found


def _private_uses(path: Path) -> list[str]:
    """Each import of a private module or a name outside a package's `__all__`."""
    problems = []
    for line, module, names in _stormproof_imports(path):
        where = f"{path.name}:{line}"
        if any(part.startswith("_") for part in module.split(".")):
            problems.append(f"{where}: imports the private module {module}")
            continue
        public = getattr(importlib.import_module(module), "__all__", None)
        if public is None:
            problems.append(f"{where}: {module} declares no public names (__all__)")
            continue
        problems += [
            f"{where}: {module}.{name} is not public" for name in names if name not in public
        ]
    return problems


def _example_modules() -> list[Path]:
    return sorted(p for p in EXAMPLE.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_example_imports_only_public_names_of_stormproof():
    modules = _example_modules()
    assert {p.name for p in modules} >= {
        "orders_client.py", "orders_provider.py", "orders_adapter.py", "test_orders_contract.py"
    }  # fmt: skip
    modules_used = {module for path in modules for _, module, _ in _stormproof_imports(path)}
    assert modules_used == {"stormproof.clients", "stormproof.chaos.services"}
    assert [problem for path in modules for problem in _private_uses(path)] == []


def test_the_import_check_catches_private_modules_and_names(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        "from stormproof.clients._operation import Operation\n"
        "from stormproof.clients import ServiceClient, Pipeline\n"
        "import stormproof.chaos.runner._judge\n"
    )
    assert _private_uses(planted) == [
        "planted.py:1: imports the private module stormproof.clients._operation",
        "planted.py:2: stormproof.clients.Pipeline is not public",
        "planted.py:3: imports the private module stormproof.chaos.runner._judge",
    ]


def test_everything_the_declaration_names_lives_in_the_example(monkeypatch):
    config = load_config(EXAMPLE / "pyproject.toml")
    assert config.pythonpath == (EXAMPLE,)
    assert config.pacts == EXAMPLE / "pacts"
    assert config.scenarios == (EXAMPLE / "scenarios",)
    declaration = config.service("orders")
    for folder in config.pythonpath:
        monkeypatch.syspath_prepend(str(folder))
    references = [declaration.client, declaration.app, declaration.adapter]
    assert all(ref is not None and not ref.startswith("stormproof") for ref in references)
    for value in (declaration.client_class(), declaration.adapter_class()):
        source = Path(sys.modules[value.__module__].__file__ or "")
        assert source.parent == EXAMPLE, f"{value!r} comes from {source}"
    adapter = declaration.build_adapter("http://127.0.0.1:9")  # built, never called here
    assert isinstance(adapter, ProviderAdapter)
    assert set(adapter.SIDE_EFFECTS) == {"orders_created"}
    # Nothing of stormproof's own packages lives in the example's folder or was copied into it.
    assert not [p for p in EXAMPLE.rglob("*") if p.name in {"clients", "chaos", "providers"}]

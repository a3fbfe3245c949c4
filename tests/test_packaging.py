"""The wheel: one top-level name, every package listed, the demo's data inside, and a user's own
`clients` package left alone in a project where stormproof is installed (not editable)."""

import os
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_folder_is_listed_for_the_wheel():
    folders = set()
    for prefix, folder in SETUPTOOLS["package-dir"].items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            relative = init.parent.relative_to(base).parts
            if "__pycache__" not in relative:
                folders.add(".".join([prefix, *relative]))
    assert folders <= set(SETUPTOOLS["packages"]), folders - set(SETUPTOOLS["packages"])


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    [built] = out.glob("stormproof-*.whl")
    return built


def test_the_wheel_has_one_top_level_name_and_the_demo_data(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"stormproof"}
    assert "stormproof/providers/demo.stormproof.toml" in names
    assert "stormproof/contracts/pacts/stormproof-clients-payments-service.json" in names
    assert "stormproof/chaos/scenarios/payments-breaker-lifecycle.yaml" in names
    assert "stormproof/chaos/templates/stormproof.toml" in names


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed, as a user installs it."""
    env = tmp_path_factory.mktemp("venv") / "env"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return env


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A team's project with a `clients` package and a test of its own."""
    (tmp_path / ".git").mkdir()  # the config search stops at the repository root
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\npythonpath = ['.']\n")
    (tmp_path / "clients").mkdir()
    (tmp_path / "clients" / "__init__.py").write_text('NAME = "the team\'s own clients"\n')
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_mine.py").write_text(
        "from clients import NAME\n\n\n"
        "def test_mine():\n"
        '    assert NAME == "the team\'s own clients"\n'
    )
    return tmp_path


def _run(env: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    clean.update(PACT_DO_NOT_TRACK="true", COLUMNS="200")
    return subprocess.run(
        args, cwd=cwd, env=clean, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.slow
def test_a_projects_own_clients_package_and_tests_are_left_alone(installed: Path, project: Path):
    python = str(installed / "bin" / "python")
    found = _run(installed, [python, "-c", "import clients; print(clients.NAME)"], project)
    assert found.stdout.strip() == "the team's own clients", found.stderr
    for runner in ([python, "-m", "pytest", "-q"], [str(installed / "bin" / "pytest"), "-q"]):
        done = _run(installed, runner, project)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert "1 passed" in done.stdout


@pytest.mark.slow
def test_stormproof_run_from_an_installed_wheel_runs_the_bundled_demo(
    installed: Path, project: Path
):
    done = _run(
        installed,
        [str(installed / "bin" / "stormproof"), "run", "--no-html", "--select",
         "payments-create-503-after-charge"],
        project,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "verify payments-service PASSED" in output
    assert "chaos/scenarios/payments-create-503-after-charge.yaml::" in output
    assert "site-packages" not in output
    assert (project / "stormproof-out" / "allure-results").is_dir()

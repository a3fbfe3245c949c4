from typer.testing import CliRunner

from stormproof.chaos import __version__
from stormproof.chaos.cli import app


def test_version_prints_installed_version():
    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"stormproof {__version__}"


def test_unknown_command_is_a_usage_error_not_a_traceback():
    result = CliRunner().invoke(app, ["no-such-command"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output

"""Suite-wide settings: the programs these tests start print plain text.

Tests read the output of subprocesses (the CLI, pytest itself through pytester), so a caller's
colour settings (``FORCE_COLOR`` or ``PY_COLORS`` on a CI runner, say) must not reach them.
"""

import os

for _name in ("FORCE_COLOR", "PY_COLORS", "CLICOLOR_FORCE"):
    os.environ.pop(_name, None)
os.environ["NO_COLOR"] = "1"

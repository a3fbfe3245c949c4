"""Reference provider services that honour the stormproof contracts (real HTTP apps).

`create_app(service, test_mode=...)` builds one FastAPI app; `serve(...)` and `serve_all(...)` run
apps on 127.0.0.1 in background threads. The HTTP API is described in docs/service-api.md.
"""

from providers._apps import (
    SERVICES,
    STATE_NAMES,
    ServiceName,
    create_app,
    find_state,
    missing_states,
)
from providers._errors import ERROR_TYPES, ApiError

__all__ = [
    "ERROR_TYPES",
    "SERVICES",
    "STATE_NAMES",
    "ApiError",
    "ServiceName",
    "create_app",
    "find_state",
    "missing_states",
]

"""Reference provider services that honour the stormproof contracts (real HTTP apps).

`create_app(service, test_mode=...)` builds one FastAPI app; `serve(...)` and `serve_all(...)` run
apps on 127.0.0.1 in background threads. The HTTP API is described in docs/service-api.md.
"""

from stormproof.providers._apps import (
    SERVICES,
    STATE_NAMES,
    ServiceName,
    create_app,
    find_state,
    missing_states,
)
from stormproof.providers._errors import ERROR_TYPES, ApiError
from stormproof.providers._faults import FaultRuleSpec
from stormproof.providers._server import (
    DEFAULT_HOST,
    ProviderGroup,
    ProviderServer,
    ProviderStartError,
    serve,
    serve_all,
)

__all__ = [
    "DEFAULT_HOST",
    "ERROR_TYPES",
    "SERVICES",
    "STATE_NAMES",
    "ApiError",
    "FaultRuleSpec",
    "ProviderGroup",
    "ProviderServer",
    "ProviderStartError",
    "ServiceName",
    "create_app",
    "find_state",
    "missing_states",
    "serve",
    "serve_all",
]

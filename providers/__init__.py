"""Reference provider services that honour the stormproof contracts (real HTTP apps).

`create_app(service, test_mode=...)` builds one FastAPI app; `serve(...)` and `serve_all(...)` run
apps on 127.0.0.1 in background threads. The HTTP API is described in docs/service-api.md.
"""

from typing import TYPE_CHECKING

from stormproof.chaos._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from stormproof.providers._adapter import (
        NotificationsAdapter,
        PaymentsAdapter,
        ReferenceAdapter,
        ReferenceProviderError,
        UsersAdapter,
    )
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
    from stormproof.providers._notifications import create_notifications_app
    from stormproof.providers._payments import create_payments_app
    from stormproof.providers._server import (
        DEFAULT_HOST,
        ProviderGroup,
        ProviderServer,
        ProviderStartError,
        serve,
        serve_all,
    )
    from stormproof.providers._users import create_users_app

# Re-exported lazily: the apps load FastAPI, while a scenario file only needs `FaultRuleSpec`.
_LAZY = {
    "DEFAULT_HOST": "_server",
    "ERROR_TYPES": "_errors",
    "SERVICES": "_apps",
    "STATE_NAMES": "_apps",
    "ApiError": "_errors",
    "FaultRuleSpec": "_faults",
    "NotificationsAdapter": "_adapter",
    "PaymentsAdapter": "_adapter",
    "ReferenceAdapter": "_adapter",
    "ReferenceProviderError": "_adapter",
    "UsersAdapter": "_adapter",
    "create_notifications_app": "_notifications",
    "create_payments_app": "_payments",
    "create_users_app": "_users",
    "ProviderGroup": "_server",
    "ProviderServer": "_server",
    "ProviderStartError": "_server",
    "ServiceName": "_apps",
    "create_app": "_apps",
    "find_state": "_apps",
    "missing_states": "_apps",
    "serve": "_server",
    "serve_all": "_server",
}


__getattr__, __dir__ = _lazy_exports(__name__, _LAZY)


__all__ = [
    "DEFAULT_HOST",
    "ERROR_TYPES",
    "SERVICES",
    "STATE_NAMES",
    "ApiError",
    "FaultRuleSpec",
    "NotificationsAdapter",
    "PaymentsAdapter",
    "ProviderGroup",
    "ProviderServer",
    "ProviderStartError",
    "ReferenceAdapter",
    "ReferenceProviderError",
    "ServiceName",
    "UsersAdapter",
    "create_app",
    "create_notifications_app",
    "create_payments_app",
    "create_users_app",
    "find_state",
    "missing_states",
    "serve",
    "serve_all",
]

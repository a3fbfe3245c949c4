"""The skeleton every provider app shares: errors, middleware, `/healthz` and the test router."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fastapi import APIRouter, FastAPI

from stormproof.providers._errors import install_error_handlers
from stormproof.providers._faults import FaultStore
from stormproof.providers._middleware import ProviderMiddleware
from stormproof.providers._requestlog import RequestLog
from stormproof.providers._states import StateRegistry, StateTemplate
from stormproof.providers._testmode import build_test_router, common_states


class ProviderContext:
    """Per-app runtime objects (reachable as `app.state.provider`).

    Args:
        service: The service name (`users`, `notifications` or `payments`).
        test_mode: Whether the `/_test` endpoints and fault rules are active.
    """

    def __init__(self, service: str, *, test_mode: bool) -> None:
        self.service = service
        self.test_mode = test_mode
        self.faults = FaultStore()
        self.requests = RequestLog()
        self.states = StateRegistry(())
        self._reset_hooks: list[Callable[[], None]] = []

    def on_reset(self, hook: Callable[[], None]) -> None:
        """Register a callable that clears service data on reset."""
        self._reset_hooks.append(hook)

    def reset(self) -> None:
        """Clear all data, fault rules, the request log and ledgers."""
        self.faults.clear()
        self.requests.clear()
        for hook in self._reset_hooks:
            hook()


def build_provider_app(
    ctx: ProviderContext,
    *,
    routers: Iterable[APIRouter],
    states: Iterable[StateTemplate],
    test_routers: Iterable[APIRouter] = (),
) -> FastAPI:
    """Assemble a provider app around its service routers.

    Args:
        ctx: The app's runtime objects (reset hooks already registered).
        routers: The service's public routes.
        states: The service's own provider states (the shared ones are added here).
        test_routers: Service-specific `/_test` routes (ledger, sent log).

    Returns:
        The FastAPI app; `app.state.provider` is `ctx`.
    """
    app = FastAPI(
        title=f"stormproof {ctx.service} service",
        docs_url=None,
        redoc_url=None,
    )
    app.state.provider = ctx
    install_error_handlers(app)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "service": ctx.service}

    for router in routers:
        app.include_router(router)
    if ctx.test_mode:
        ctx.states = StateRegistry([*states, *common_states(ctx.faults)])
        app.include_router(
            build_test_router(
                faults=ctx.faults, requests=ctx.requests, states=ctx.states, reset=ctx.reset
            )
        )
        for router in test_routers:
            app.include_router(router)
    app.add_middleware(
        ProviderMiddleware,
        service=ctx.service,
        faults=ctx.faults,
        requests=ctx.requests,
        test_mode=ctx.test_mode,
    )
    return app

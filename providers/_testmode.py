"""The `/_test` router every provider mounts in test mode, and the states all services share."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from stormproof.providers._errors import ApiError
from stormproof.providers._faults import FaultRuleSpec, FaultStore
from stormproof.providers._requestlog import RequestLog
from stormproof.providers._states import (
    StateParams,
    StateRegistry,
    StateTemplate,
    param_int,
    param_str,
)

TEST_PREFIX = "/_test"


class StateChange(BaseModel):
    """The body of `POST /_test/states`, as the Pact verifier sends it."""

    model_config = ConfigDict(extra="ignore")

    state: str = ""
    params: dict[str, Any] | None = Field(default=None)
    action: Literal["setup", "teardown"] = "setup"


def _install(faults: FaultStore, params: StateParams, status: int, retry: str | None) -> Any:
    retry_after = params.get("retry_after", retry)
    spec = FaultRuleSpec(
        mode="status",
        status=status,
        count=param_int(params, "count", 1),
        method=param_str(params, "method") if params.get("method") else None,
        path=param_str(params, "path") if params.get("path") else None,
        retry_after=None if retry_after is None else str(retry_after),
    )
    return faults.add(spec).to_json()


# Params of the two fault states: `count` (default 1), `method`, `path`, `retry_after`.
_COMMON_HANDLERS: dict[str, Callable[[FaultStore, StateParams], dict[str, Any]]] = {
    "the service is rate limiting": lambda faults, params: _install(faults, params, 429, "1"),
    "the service is unavailable": lambda faults, params: _install(faults, params, 503, None),
    "the service is healthy": lambda _faults, _params: {},
}
COMMON_STATE_NAMES = tuple(_COMMON_HANDLERS)


def common_states(faults: FaultStore) -> list[StateTemplate]:
    """States every service knows; the first two install a 429 or 503 fault rule."""
    return [StateTemplate(name, partial(h, faults)) for name, h in _COMMON_HANDLERS.items()]


def build_test_router(
    *,
    faults: FaultStore,
    requests: RequestLog,
    states: StateRegistry,
    reset: Callable[[], None],
) -> APIRouter:
    """The routes under `/_test` shared by all services (service extras are added separately).

    Args:
        faults: The app's fault rules.
        requests: The app's request log.
        states: The app's provider states.
        reset: Clears all data, faults, the request log and service ledgers.
    """
    router = APIRouter(prefix=TEST_PREFIX)

    @router.post("/faults", status_code=201)
    def add_fault(spec: FaultRuleSpec) -> dict[str, Any]:
        return faults.add(spec).to_json()

    @router.get("/faults")
    def list_faults() -> dict[str, Any]:
        rules = faults.list()
        return {"count": len(rules), "rules": rules}

    @router.get("/faults/{rule_id}")
    def get_fault(rule_id: str) -> dict[str, Any]:
        rule = faults.get(rule_id)
        if rule is None:
            raise ApiError(404, "not_found", f"no fault rule {rule_id} since the last reset")
        return rule

    @router.delete("/faults", status_code=204)
    def clear_faults() -> Response:
        faults.clear()
        return Response(status_code=204)

    @router.post("/reset", status_code=204)
    def reset_all() -> Response:
        reset()
        return Response(status_code=204)

    @router.get("/requests")
    def list_requests() -> dict[str, Any]:
        return requests.snapshot()

    @router.post("/states")
    def change_state(change: StateChange) -> dict[str, Any]:
        if change.action == "teardown":
            # Teardown returns the provider to empty: interactions never see each other's data.
            reset()
            return {}
        return states.setup(change.state, change.params or {})

    return router

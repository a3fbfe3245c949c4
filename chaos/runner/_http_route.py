"""Where a scenario's `http:` fault is made: the embedded proxy's `http` toxic, or the provider.

The embedded proxy makes HTTP faults in front of any upstream, so on it every service gets them
the same way. A real Toxiproxy has no such toxic (it answers 400 for the type); there the
provider adapter's own fault API is the fallback, where the service declares one.
"""

from __future__ import annotations

import json
from typing import Any

from stormproof.chaos.toxiproxy import ToxiproxyClient, ToxiproxyError
from stormproof.providers._faults import FaultRuleSpec

HTTP_TOXIC = "http"
_PROBE = "stormproof-http-probe"


def proxy_makes_http_faults(toxiproxy: ToxiproxyClient, proxy: str) -> bool:
    """Whether the server behind `toxiproxy` has the `http` toxic (asked once, on `proxy`).

    The probe adds an `http` toxic with toxicity 0 (it can act on nothing) and takes it away.

    Raises:
        ToxiproxyError: The server failed in another way than refusing the type.
    """
    try:
        toxiproxy.add_toxic(
            proxy, HTTP_TOXIC, toxicity=0.0, attributes={"path": "/-probe-"}, name=_PROBE
        )
    except ToxiproxyError as exc:
        if exc.status == 400:
            return False
        raise
    toxiproxy.remove_toxic(proxy, _PROBE)
    return True


def toxic_attributes(spec: FaultRuleSpec) -> dict[str, Any]:
    """The `http` toxic attributes that make the fault rule `spec` (same fields, same defaults)."""
    attributes: dict[str, Any] = {
        "mode": spec.mode,
        "apply": spec.apply,
        "count": spec.count,
        "method": spec.method or "",
        "path": spec.path or "",
        "status": spec.status,
        "retry_after": spec.retry_after or "",
        "delay_ms": spec.delay_ms,
    }
    if spec.body is not None:
        attributes["body"] = json.dumps(spec.body)
    return attributes

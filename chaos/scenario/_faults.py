"""The faults a scenario phase applies, each checked against the thing that carries it out.

- A toxic's type and attributes come from the proxy's own toxic registry (names, integer type,
  ranges, cross-attribute checks), so a scenario says exactly what the proxy will do. Unlike the
  proxy API, which ignores unknown attribute names as Toxiproxy does, a scenario file refuses them.
- An HTTP fault is the provider's own fault rule (`FaultRuleSpec`): one model, one set of defaults.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, ValidationInfo, field_validator

from stormproof.chaos.scenario._base import Frozen
from stormproof.chaos.toxiproxy._api_error import ApiError
from stormproof.chaos.toxiproxy._toxics import KINDS, parse_attributes
from stormproof.providers._faults import FaultRuleSpec

StreamName = Literal["upstream", "downstream"]


def did_you_mean(word: str, choices: list[str]) -> str:
    """`" (did you mean 'x'?)"` for the closest choice, or `""` when none is close."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class ToxicFault(Frozen):
    """A Toxiproxy toxic on the service's proxy: `{toxic: latency, attributes: {latency: 500}}`.

    `attributes` are checked against the toxic type: unknown names, non-integers and values the
    proxy would refuse are load errors. Attributes left out take the proxy's defaults (0).
    """

    toxic: str
    stream: StreamName = "downstream"
    toxicity: float = Field(default=1.0, ge=0.0, le=1.0)
    attributes: dict[str, Any] = Field(default_factory=dict, validate_default=True)
    name: str | None = Field(default=None, min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")

    @field_validator("toxic")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in KINDS:
            known = ", ".join(sorted(KINDS))
            raise ValueError(
                f"unknown toxic type {value!r}{did_you_mean(value, list(KINDS))}; known: {known}"
            )
        return value

    @field_validator("attributes")
    @classmethod
    def _attributes_fit_the_type(
        cls, value: dict[str, Any], info: ValidationInfo
    ) -> dict[str, Any]:
        toxic = info.data.get("toxic")
        if toxic is None:  # the type itself was refused: nothing to check the attributes against
            return value
        kind = KINDS[toxic]
        if kind.parse is not None:  # a stormproof extension (http) checks its own attributes
            known = list(kind.defaults())
            unknown = [
                f"unknown attribute {key!r} for a {toxic} toxic{did_you_mean(key, known)}"
                for key in value
                if key not in known
            ]
            if unknown:
                raise ValueError("; ".join(unknown))
            try:
                parse_attributes(kind, dict(value))
            except ApiError as exc:
                raise ValueError(exc.message) from None
            return value
        names = [spec.name for spec in kind.attrs]
        problems = [
            f"unknown attribute {key!r} for a {toxic} toxic{did_you_mean(key, names)}"
            f" (its attributes: {', '.join(names) or 'none'})"
            for key in value
            if key not in names
        ]
        problems += [
            f"attribute {key!r} must be an integer, got {item!r}"
            for key, item in value.items()
            if key in names and (isinstance(item, bool) or not isinstance(item, int))
        ]
        if not problems:
            try:
                parse_attributes(kind, dict(value))
            except ApiError as exc:
                problems.append(exc.message)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @property
    def effective_attributes(self) -> dict[str, int]:
        """Every attribute of the toxic type, defaults included: what the proxy will apply."""
        return {**KINDS[self.toxic].defaults(), **self.attributes}

    @property
    def toxic_name(self) -> str:
        """The toxic's name on the proxy (Toxiproxy's default: `<type>_<stream>`)."""
        return self.name or f"{self.toxic}_{self.stream}"

    @property
    def kind(self) -> str:
        """The fault's kind in reports (the toxic type)."""
        return self.toxic


class ProxyFault(Frozen):
    """The service's proxy is disabled (`proxy: down`): connects are refused."""

    proxy: Literal["down"]

    @property
    def kind(self) -> str:
        """The fault's kind in reports."""
        return "outage"


class HttpFault(Frozen):
    """An HTTP-level fault rule, e.g. `{http: {status: 503, count: 2}}` (the provider's model)."""

    http: FaultRuleSpec

    @property
    def kind(self) -> str:
        """The fault's kind in reports: `http_503`, `http_slow`, ..."""
        if self.http.mode == "status":
            return f"http_{self.http.status}"
        return f"http_{self.http.mode}"


def _fault_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        keys = [key for key in ("toxic", "proxy", "http") if key in value]
        return keys[0] if len(keys) == 1 else None
    if isinstance(value, ToxicFault | ProxyFault | HttpFault):
        return {ToxicFault: "toxic", ProxyFault: "proxy", HttpFault: "http"}[type(value)]
    return None


Fault = Annotated[
    Annotated[ToxicFault, Tag("toxic")]
    | Annotated[ProxyFault, Tag("proxy")]
    | Annotated[HttpFault, Tag("http")],
    Discriminator(
        _fault_tag,
        custom_error_type="fault_kind",
        custom_error_message="a fault needs exactly one of the keys 'toxic', 'proxy' or 'http'",
    ),
]
"""One fault: a toxic, an outage or an HTTP fault rule."""

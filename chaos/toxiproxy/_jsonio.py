"""JSON in and out with the quirks of Go's encoding/json, which Toxiproxy clients rely on.

Decoding reads the first JSON value and ignores trailing bytes, matches field names
case-insensitively, treats ``null`` as "absent", and reports type mismatches in Go's words.
Like Go, it turns invalid UTF-8 and lone UTF-16 surrogates (``"\\ud800"``) into U+FFFD, so no
string it returns fails to encode. Encoding is compact with ``<``, ``>`` and ``&`` escaped, and
whole floats printed as integers.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from stormproof.chaos.toxiproxy._api_error import BAD_REQUEST_BODY, ApiError

_INT64 = (-(2**63), 2**63 - 1)
_FLOAT32_MAX = 3.4028234663852886e38
_SURROGATE = re.compile("[\ud800-\udfff]")
# A \u escape of a surrogate half: the only way a lone surrogate gets into decoded text.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class Number(float):
    """A float that keeps its JSON literal: Go names the literal in its errors (``1e39``,
    ``1e400``), where Python would show ``1e+39`` or ``inf``."""

    literal: str

    def __new__(cls, literal: str) -> Number:
        number = super().__new__(cls, literal)
        number.literal = literal
        return number


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


_decoder = json.JSONDecoder(parse_constant=_reject_constant, parse_float=Number)


def _fix(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


def _replace_surrogates(value: Any) -> Any:
    """`value` with lone surrogates in every string and key replaced by U+FFFD (no recursion:
    the decoder accepts nesting deeper than Python's call stack)."""
    if isinstance(value, str):
        return _fix(value)
    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        parent, key = stack.pop()
        item = parent[key]
        if isinstance(item, str):
            parent[key] = _fix(item)
        elif isinstance(item, list):
            stack.extend((item, i) for i in range(len(item)))
        elif isinstance(item, dict):
            fixed = {_fix(k): v for k, v in item.items()}
            parent[key] = fixed
            stack.extend((fixed, k) for k in fixed)
    return root[0]


def decode(body: bytes) -> Any:
    """Decode the first JSON value of a request body.

    Raises:
        ApiError: 400 ``bad request body: ...`` for an empty or malformed body.
    """
    # Go keeps invalid UTF-8 inside strings as U+FFFD (and outside them it is a syntax error).
    text = body.decode("utf-8", errors="replace").lstrip(" \t\r\n")
    if not text:
        raise BAD_REQUEST_BODY.joined("EOF")
    try:
        value, _ = _decoder.raw_decode(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text):
            raise BAD_REQUEST_BODY.joined("unexpected EOF") from None
        raise BAD_REQUEST_BODY.joined(f"invalid JSON: {exc.msg} at offset {exc.pos}") from None
    except ValueError as exc:
        raise BAD_REQUEST_BODY.joined(str(exc)) from None
    except RecursionError:
        # Python's decoder gives up near 1,000 levels (Go's at 10,000): a bad body, not a crash.
        raise BAD_REQUEST_BODY.joined("exceeded max depth") from None
    if _SURROGATE_ESCAPE.search(text):
        value = _replace_surrogates(value)
    return value


def json_kind(value: object) -> str:
    """Go's name for the JSON type of a decoded value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def type_error(value: object, where: str, go_type: str) -> ApiError:
    """``bad request body: json: cannot unmarshal X into Go struct field W of type T``."""
    kind = json_kind(value)
    if kind == "number" and go_type.startswith(("int", "float")):
        kind = f"number {getattr(value, 'literal', value)}"
    return BAD_REQUEST_BODY.joined(
        f"json: cannot unmarshal {kind} into Go struct field {where} of type {go_type}"
    )


def expect_object(value: object, go_type: str) -> dict[str, Any]:
    """Check that a decoded body is an object, as decoding into a Go struct requires."""
    if isinstance(value, dict):
        return value
    if value is None:
        return {}
    raise BAD_REQUEST_BODY.joined(
        f"json: cannot unmarshal {json_kind(value)} into Go value of type {go_type}"
    )


def same_field(key: str, name: str) -> bool:
    """Whether JSON key `key` names field `name` (lowercase ASCII), as Go's decoder decides.

    Go folds case with Unicode's simple folding, in which the long s ("\u017f") is an "s" and
    the Kelvin sign an "k"; Python's lower() gets the Kelvin sign but not the long s.
    """
    return key == name or key.replace("\u017f", "s").lower() == name


def field(obj: Mapping[str, Any], name: str) -> Any:
    """The value of a field, matched case-insensitively (last match wins, as in Go)."""
    found: Any = None
    for key, value in obj.items():
        if same_field(key, name):
            found = value
    return found


def get_str(obj: Mapping[str, Any], name: str, where: str, default: str) -> str:
    """A string field, or `default` when absent or null."""
    value = field(obj, name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise type_error(value, where, "string")
    return value


def get_bool(obj: Mapping[str, Any], name: str, where: str, default: bool) -> bool:
    """A boolean field, or `default` when absent or null."""
    value = field(obj, name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise type_error(value, where, "bool")
    return value


def get_float(obj: Mapping[str, Any], name: str, where: str, default: float) -> float:
    """A number field, or `default` when absent or null."""
    value = field(obj, name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise type_error(value, where, "float32")
    # Go refuses what overflows a float32; Python's float() would raise on a huge integer.
    if not abs(value) <= _FLOAT32_MAX:
        raise type_error(value, where, "float32")
    return float(value)


def as_int(value: object, where: str, go_type: str) -> int:
    """An integer attribute; whole floats such as ``100.0`` are accepted too."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise type_error(value, where, go_type)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise type_error(value, where, go_type)
        value = int(value)
    if not _INT64[0] <= value <= _INT64[1]:
        raise type_error(value, where, go_type)
    return value


def _compact(value: object) -> object:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_compact(v) for v in value]
    return value


def encode(value: object) -> bytes:
    """Encode like Go's ``json.Marshal``: compact, HTML-safe, whole floats as integers."""
    text = json.dumps(_compact(value), separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Go's encoder writes U+FFFD for what is not valid Unicode; never fail an answer.
        return _fix(text).encode("utf-8")

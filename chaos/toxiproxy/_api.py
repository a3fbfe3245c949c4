"""The HTTP API of Toxiproxy 2.12 on aiohttp: the same 13 routes, bodies and status codes."""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from stormproof.chaos.toxiproxy import _jsonio as j
from stormproof.chaos.toxiproxy._api_error import ApiError
from stormproof.chaos.toxiproxy._collection import ProxyCollection
from stormproof.chaos.toxiproxy._metrics import CONTENT_TYPE, Metrics

log = logging.getLogger("stormproof.toxiproxy")

TOXIPROXY_VERSION = "2.12.0"
COLLECTION: web.AppKey[ProxyCollection] = web.AppKey("collection", ProxyCollection)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Go's http.Server reads request lines and headers up to 1 MiB (aiohttp: 8190 bytes), and names
# that long are valid: a proxy created with one must stay addressable.
MAX_REQUEST_LINE = 1024 * 1024

_request_ids = itertools.count(1)
_id_prefix = os.urandom(4).hex()


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=j.encode(data), status=status, content_type="application/json")


def _error(exc: ApiError) -> web.Response:
    # Go's http.Error: the JSON text, a newline, and a text/plain content type.
    body = j.encode({"error": exc.message, "status": exc.status}) + b"\n"
    return web.Response(
        body=body,
        status=exc.status,
        headers={"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"},
    )


def _router_answer(exc: web.HTTPException) -> web.Response:
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return web.Response(status=405)
    return web.Response(text="404 page not found\n", status=404, content_type="text/plain")


@web.middleware
async def _middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    unrouted = request.match_info.http_exception
    if unrouted is not None:
        # gorilla/mux runs its middlewares (request id, browser check) only on a matched
        # route: its own 404 and 405 answers carry neither.
        return _router_answer(unrouted)
    request_id = f"{_id_prefix}{next(_request_ids):08x}"
    try:
        if request.headers.get("User-Agent", "").startswith("Mozilla/"):
            response: web.StreamResponse = web.Response(
                text="User agent not allowed\n", status=403, content_type="text/plain"
            )
        else:
            response = await handler(request)
    except ApiError as exc:
        response = _error(exc)
    except (web.HTTPMethodNotAllowed, web.HTTPNotFound) as exc:
        response = _router_answer(exc)
    except web.HTTPException as exc:
        response = _error(ApiError(exc.reason, exc.status))
    except Exception as exc:  # the server must answer, whatever the input
        log.exception("API handler failed", extra={"event": "api.error", "path": request.path})
        response = _error(ApiError(f"internal error: {exc}", 500))
    response.headers["X-Toxiproxy-Request-Id"] = request_id
    log.debug(
        "api request",
        extra={
            "event": "api.request",
            "method": request.method,
            "path": request.path_qs,
            "status": response.status,
            "request_id": request_id,
            "client": request.remote,
            "user_agent": request.headers.get("User-Agent", ""),
        },
    )
    return response


async def _body(request: web.Request) -> Any:
    return j.decode(await request.read())


def _collection(request: web.Request) -> ProxyCollection:
    return request.app[COLLECTION]


async def _proxy_index(request: web.Request) -> web.Response:
    proxies = _collection(request).proxies
    return _json({name: proxies[name].to_json() for name in sorted(proxies)})


async def _proxy_create(request: web.Request) -> web.Response:
    proxy = await _collection(request).create(await _body(request))
    return _json(proxy.to_json(), status=201)


async def _populate(request: web.Request) -> web.Response:
    try:
        proxies, error = await _collection(request).populate(await _body(request))
    except ApiError as exc:
        # Populate formats its own errors, with the (empty) proxy list and a JSON type.
        proxies, error = [], exc
    # Go marshals an empty result slice as null.
    listed = [proxy.to_json() for proxy in proxies] or None
    if error is None:
        return _json({"proxies": listed}, status=201)
    log.warning("populate failed", extra={"event": "proxy.populate_failed", "error": error.message})
    body = {"error": error.message, "status": error.status, "proxies": listed}
    return _json(body, status=error.status)


async def _proxy_show(request: web.Request) -> web.Response:
    return _json(_collection(request).get(request.match_info["proxy"]).to_json())


async def _proxy_update(request: web.Request) -> web.Response:
    name = request.match_info["proxy"]
    collection = _collection(request)
    collection.get(name)  # 404 before looking at the body, as Toxiproxy does
    proxy = await collection.update(name, await _body(request))
    return _json(proxy.to_json())


async def _proxy_delete(request: web.Request) -> web.Response:
    await _collection(request).delete(request.match_info["proxy"])
    return web.Response(status=204)


async def _toxic_index(request: web.Request) -> web.Response:
    proxy = _collection(request).get(request.match_info["proxy"])
    return _json([toxic.to_json() for toxic in proxy.toxics()])


async def _toxic_create(request: web.Request) -> web.Response:
    name = request.match_info["proxy"]
    collection = _collection(request)
    collection.get(name)
    toxic = await collection.add_toxic(name, await _body(request))
    return _json(toxic.to_json())


async def _toxic_show(request: web.Request) -> web.Response:
    proxy = _collection(request).get(request.match_info["proxy"])
    toxic = proxy.find_toxic(request.match_info["toxic"])
    if toxic is None:
        raise ApiError("toxic not found", 404)
    return _json(toxic.to_json())


async def _toxic_stats(request: web.Request) -> web.Response:
    # A stormproof extension on its own route, so Toxiproxy's JSON stays as it is.
    proxy = _collection(request).get(request.match_info["proxy"])
    toxic = proxy.find_toxic(request.match_info["toxic"])
    if toxic is None:
        raise ApiError("toxic not found", 404)
    return _json(toxic.stats_json())


async def _toxic_update(request: web.Request) -> web.Response:
    proxy_name, toxic_name = request.match_info["proxy"], request.match_info["toxic"]
    collection = _collection(request)
    proxy = collection.get(proxy_name)
    if proxy.find_toxic(toxic_name) is None:
        raise ApiError("toxic not found", 404)
    toxic = await collection.update_toxic(proxy_name, toxic_name, await _body(request))
    return _json(toxic.to_json())


async def _toxic_delete(request: web.Request) -> web.Response:
    await _collection(request).remove_toxic(
        request.match_info["proxy"], request.match_info["toxic"]
    )
    return web.Response(status=204)


async def _reset(request: web.Request) -> web.Response:
    await _collection(request).reset()
    return web.Response(status=204)


async def _version(request: web.Request) -> web.Response:
    return web.Response(
        body=f'{{"version": "{TOXIPROXY_VERSION}"}}\n'.encode(),
        headers={"Content-Type": "application/json;charset=utf-8"},
    )


async def _metrics(request: web.Request) -> web.Response:
    response = web.Response(body=request.app[METRICS].render())
    # Not content_type=: aiohttp would split the parameters off and write them back its way.
    response.headers["Content-Type"] = CONTENT_TYPE
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.enable_compression(web.ContentCoding.gzip)  # as promhttp does
    return response


def build_app(collection: ProxyCollection, metrics: Metrics | None = None) -> web.Application:
    """The aiohttp application serving `collection` (and `/metrics` when `metrics` is on)."""
    app = web.Application(middlewares=[_middleware], client_max_size=4 * 1024 * 1024)
    app[COLLECTION] = collection
    # aiohttp's default placeholder pattern, [^{}/]+, would make a proxy or toxic whose name
    # has a brace unreachable after creating it; gorilla/mux (Toxiproxy's router) takes [^/]+.
    proxy, toxic = "{proxy:[^/]+}", "{toxic:[^/]+}"
    r = app.router
    r.add_post("/reset", _reset)
    r.add_get("/proxies", _proxy_index, allow_head=False)
    r.add_post("/proxies", _proxy_create)
    r.add_post("/populate", _populate)
    r.add_get(f"/proxies/{proxy}", _proxy_show, allow_head=False)
    r.add_post(f"/proxies/{proxy}", _proxy_update)
    r.add_patch(f"/proxies/{proxy}", _proxy_update)
    r.add_delete(f"/proxies/{proxy}", _proxy_delete)
    r.add_get(f"/proxies/{proxy}/toxics", _toxic_index, allow_head=False)
    r.add_post(f"/proxies/{proxy}/toxics", _toxic_create)
    r.add_get(f"/proxies/{proxy}/toxics/{toxic}", _toxic_show, allow_head=False)
    r.add_post(f"/proxies/{proxy}/toxics/{toxic}", _toxic_update)
    r.add_patch(f"/proxies/{proxy}/toxics/{toxic}", _toxic_update)
    r.add_delete(f"/proxies/{proxy}/toxics/{toxic}", _toxic_delete)
    r.add_get(f"/proxies/{proxy}/toxics/{toxic}/stats", _toxic_stats, allow_head=False)
    r.add_get("/version", _version, allow_head=False)
    if metrics is not None and metrics.enabled:
        app[METRICS] = metrics
        r.add_route("*", "/metrics", _metrics)  # any method, as Toxiproxy's r.Handle
    return app

"""The ``/stores`` endpoints, installed on the worker's web server (JSON in, JSON out).

* ``GET /stores``: the stores, their kinds and the partitions active or standby here.
* ``GET /stores/{store}/keys/{key}``: one key, served here when this worker owns its
  partition, else forwarded to the owner (the answer says who served it).
* ``GET /stores/{store}?from=&to=&limit=&after=``: a page of a key-value store's range,
  gathered from every worker (each one's part through ``?local=true``), sorted by key.
* ``GET /stores/{store}/keys/{key}/windows?from=&to=``: a key's windows (or sessions).

Errors are ``{"error": ..., "message": ...}``: 404 unknown store or absent key, 400 bad key
or parameters, 503 ``restoring`` while stores restore or partitions move, 503 ``owner
unreachable`` when the owning worker does not answer (both carry ``"retry": true``).
``?stale=true`` also reads standbys and restoring stores here (Kafka's
``enableStaleStores``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
from aiohttp import web

from streams_app.query.errors import (
    InvalidStateStoreError,
    InvalidStateStorePartitionError,
    StateStoreMigratedError,
    StateStoreRestoringError,
    UnknownStateStoreError,
)
from streams_app.query.keys import BadKeyError, key_order, key_text, parse_key, to_json
from streams_app.query.routing import KeyQueryMetadata, Router
from streams_app.query.stores import QueryableStores
from streams_app.query.views import KeyValueView, SessionView, VersionedView, WindowView
from streams_app.state.spec import StoreSpec

__all__ = ["DEFAULT_LIMIT", "FORWARD_TIMEOUT_S", "MAX_LIMIT", "QueryApi"]

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: How long a forwarded query may take before the answer is 503.
FORWARD_TIMEOUT_S = 5.0
_FOREVER = 2**62

Handler = Callable[[web.Request], Awaitable[web.Response]]


class _Failure(Exception):
    """Ends a request with ``status`` and an error body."""

    def __init__(self, status: int, error: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.body = status, {"error": error, "message": message, **extra}


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=to_json(body), status=status, content_type="application/json")


def _store_failure(exc: InvalidStateStoreError) -> _Failure:
    if isinstance(exc, UnknownStateStoreError):
        return _Failure(404, "unknown store", str(exc))
    if isinstance(exc, InvalidStateStorePartitionError):
        return _Failure(400, "bad partition", str(exc))
    if isinstance(exc, StateStoreRestoringError | StateStoreMigratedError):
        return _Failure(503, "restoring", str(exc), retry=True)
    return _Failure(503, "unavailable", str(exc), retry=True)


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").strip().lower() in ("1", "true", "yes")


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = int(text)
    except ValueError:
        raise _Failure(400, f"bad {name}", f"{name}={text[:40]!r} is not an integer") from None
    if not low <= value <= high:
        raise _Failure(400, f"bad {name}", f"{name} must be between {low} and {high}")
    return value


class QueryApi:
    """The query endpoints over ``stores`` (what this worker holds) and ``router`` (who
    holds the rest); :meth:`install` adds them to an aiohttp application."""

    def __init__(self, stores: QueryableStores, router: Router,
                 forward_timeout_s: float = FORWARD_TIMEOUT_S) -> None:
        self.stores = stores
        self.router = router
        self.forward_timeout_s = forward_timeout_s
        self._session: aiohttp.ClientSession | None = None

    @property
    def self_host(self) -> str:
        return self.router.self_host

    def install(self, app: web.Application) -> None:
        """Add the routes (a :data:`~streams_app.runtime.web.RouteInstaller`)."""
        app.router.add_get("/stores", self._wrap(self.list_stores))
        app.router.add_get("/stores/{store}", self._wrap(self.range))
        app.router.add_get("/stores/{store}/keys/{key}", self._wrap(self.get_key))
        app.router.add_get("/stores/{store}/keys/{key}/windows", self._wrap(self.windows))
        app.on_cleanup.append(self._close)

    def _wrap(self, handler: Callable[[web.Request], Awaitable[Any]]) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            try:
                result = await handler(request)
            except _Failure as failure:
                return _json(failure.body, failure.status)
            except InvalidStateStoreError as exc:
                failure = _store_failure(exc)
                return _json(failure.body, failure.status)
            return result if isinstance(result, web.Response) else _json(result)

        return handle

    async def _close(self, _app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- endpoints -------------------------------------------------------------------------

    async def list_stores(self, _request: web.Request) -> dict[str, Any]:
        return {"worker": self.self_host, "stores": [asdict(i) for i in self.stores.info()]}

    async def get_key(self, request: web.Request) -> Any:
        spec, key, meta = self._locate(request)
        if spec.kind not in ("key-value", "versioned"):
            raise _Failure(400, "windowed store", f"store {spec.name!r} is windowed: read "
                           f"the key's windows at /stores/{spec.name}/keys/{{key}}/windows")
        local = self._serve_here(request, spec, meta)
        if local is None:
            return await self._forward(request, meta)
        view = self.stores.store(spec.name, stale=local, partition=meta.partition)
        if isinstance(view, VersionedView):  # ?as_of=: the version valid then
            as_of = _int_param(request, "as_of", _FOREVER, 0, _FOREVER)
            found = view.entry(key, None if as_of == _FOREVER else as_of)
        else:
            assert isinstance(view, KeyValueView)
            found = view.entry(key)
        if found is None:
            raise _Failure(404, "key not found", f"no value for key {key!r} in {spec.name!r}",
                           store=spec.name, key=key, partition=meta.partition,
                           served_by=self.self_host)
        return {"store": spec.name, "key": key, "value": found.value,
                "timestamp": found.timestamp, "partition": found.partition,
                "worker": meta.active_host or self.self_host, "served_by": self.self_host,
                "forwarded": False}

    async def windows(self, request: web.Request) -> Any:
        spec, key, meta = self._locate(request)
        if spec.kind in ("key-value", "versioned"):
            raise _Failure(400, "not windowed", f"store {spec.name!r} is a key-value store; "
                           f"read it at /stores/{spec.name}/keys/{{key}}")
        time_from = _int_param(request, "from", 0, 0, _FOREVER)
        time_to = _int_param(request, "to", _FOREVER, 0, _FOREVER)
        if time_from > time_to:
            raise _Failure(400, "bad range", f"from={time_from} is after to={time_to}")
        local = self._serve_here(request, spec, meta)
        if local is None:
            return await self._forward(request, meta)
        view = self.stores.store(spec.name, stale=local, partition=meta.partition)
        if isinstance(view, WindowView):
            found = view.windows(key, time_from, time_to)
        else:
            assert isinstance(view, SessionView)
            found = [w for w in view.sessions(key) if time_from <= w.start <= time_to]
        return {"store": spec.name, "key": key, "kind": "window"
                if isinstance(view, WindowView) else "session",
                "windows": [{"start": w.start, "end": w.end, "value": w.value} for w in found],
                "partition": meta.partition, "worker": meta.active_host or self.self_host,
                "served_by": self.self_host, "forwarded": False}

    async def range(self, request: web.Request) -> Any:
        spec = self._spec(request)
        if spec.kind == "versioned":
            raise _Failure(400, "versioned store", f"store {spec.name!r} is versioned: it has "
                           f"no range reads; read a key at /stores/{spec.name}/keys/{{key}}"
                           "?as_of=<ms>")
        if spec.kind != "key-value":
            raise _Failure(400, "not a key-value store",
                           f"store {spec.name!r} is windowed: read a key's windows at "
                           f"/stores/{spec.name}/keys/{{key}}/windows")
        serde = self.stores.key_serde(spec)
        bounds = [self._key_param(request, name, serde) for name in ("from", "to", "after")]
        limit = _int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        if _flag(request, "local"):
            return self._local_range(spec, *bounds, limit, _flag(request, "stale"))
        return await self._gathered_range(request, spec, bounds, limit, serde)

    # -- helpers ---------------------------------------------------------------------------

    def _spec(self, request: web.Request) -> StoreSpec:
        try:
            return self.stores.spec(request.match_info["store"])
        except UnknownStateStoreError as exc:
            raise _Failure(404, "unknown store", str(exc)) from None

    def _key_param(self, request: web.Request, name: str, serde: Any) -> Any:
        text = request.query.get(name)
        if text is None or text == "":
            return None
        try:
            return parse_key(text, serde)
        except BadKeyError as exc:
            raise _Failure(400, "bad key", f"{name}: {exc}") from None

    def _locate(self, request: web.Request) -> tuple[StoreSpec, Any, KeyQueryMetadata]:
        spec = self._spec(request)
        try:
            key = parse_key(request.match_info["key"], self.stores.key_serde(spec))
        except BadKeyError as exc:
            raise _Failure(400, "bad key", str(exc)) from None
        try:
            meta = self.router.query_metadata_for_key(spec.name, key)
        except (TypeError, ValueError) as exc:  # the key serde cannot write it
            raise _Failure(400, "bad key", f"{key!r}: {exc}") from None
        return spec, key, meta

    def _serve_here(self, request: web.Request, spec: StoreSpec,
                    meta: KeyQueryMetadata) -> bool | None:
        """None: forward to the owner. Else serve here, stale reads allowed or not."""
        stale = _flag(request, "stale")
        if spec.is_global or meta.active_host == self.self_host or _flag(request, "local"):
            return stale
        if stale and meta.partition in self.stores.standby_partitions(spec):
            return True
        if meta.active_host is None:
            raise _Failure(503, "restoring", f"no worker owns partition {meta.partition} of "
                           f"{spec.name!r} yet (rebalancing)", retry=True)
        return None

    def _local_range(self, spec: StoreSpec, start: Any, end: Any, after: Any, limit: int,
                     stale: bool) -> dict[str, Any]:
        view = self.stores.store(spec.name, stale=stale)
        assert isinstance(view, KeyValueView)
        floor = None if after is None else key_order(after)
        items = []
        for e in view.range_entries(start, end):
            if floor is not None and key_order(e.key) <= floor:
                continue
            items.append({"key": e.key, "value": e.value, "timestamp": e.timestamp,
                          "partition": e.partition, "worker": self.self_host})
            if len(items) > limit:
                break
        more = len(items) > limit
        items = items[:limit]
        serde = self.stores.key_serde(spec)
        return {"store": spec.name, "items": items, "partitions": view.partitions,
                "worker": self.self_host,
                "next": key_text(items[-1]["key"], serde) if more else None}

    async def _gathered_range(self, request: web.Request, spec: StoreSpec, bounds: list[Any],
                              limit: int, serde: Any) -> dict[str, Any]:
        hosts = self.router.hosts(spec.name)
        count = 1 if spec.is_global else self.stores.partition_count(spec)
        missing = sorted(set(range(count)) - {p for ps in hosts.values() for p in ps})
        if missing:
            raise _Failure(503, "restoring", f"partitions {missing} of {spec.name!r} have no "
                           "owner yet (rebalancing)", retry=True)
        query = {k: v for k, v in request.query.items() if k in ("from", "to", "after", "stale")}
        query.update(local="true", limit=str(limit))
        parts = []
        for host in sorted(hosts):
            if host == self.self_host or spec.is_global:
                parts.append(self._local_range(spec, *bounds, limit, _flag(request, "stale")))
                if spec.is_global:
                    break
            else:
                status, body = await self._get(host, f"/stores/{quote(spec.name, safe='')}",
                                               query)
                if status != 200:
                    raise _Failure(503 if status == 503 else 502, body.get("error", "upstream"),
                                   f"worker {host}: {body.get('message', status)}",
                                   worker=host, retry=status == 503)
                parts.append(body)
        covered = sorted({p for part in parts for p in part["partitions"]})
        if covered != list(range(count)):
            raise _Failure(503, "restoring", f"the workers hold partitions {covered} of "
                           f"{spec.name!r}, not all {count} (rebalancing)", retry=True)
        merged: dict[Any, dict[str, Any]] = {}
        for part in parts:
            for item in part["items"]:
                merged.setdefault(orjson.dumps(item["key"]), item)
        items = sorted(merged.values(), key=lambda i: key_order(i["key"]))
        more = len(items) > limit or any(part["next"] is not None for part in parts)
        items = items[:limit]
        return {"store": spec.name, "items": items,
                "next": key_text(items[-1]["key"], serde) if more and items else None}

    async def _forward(self, request: web.Request, meta: KeyQueryMetadata) -> web.Response:
        host = meta.active_host
        assert host is not None
        query = {**request.query, "local": "true"}
        status, body = await self._get(host, request.rel_url.raw_path, query)
        if status == 200:
            body["forwarded"] = True
        return _json(body, status)

    async def _get(self, host: str, path: str, query: Mapping[str, str]
                   ) -> tuple[int, dict[str, Any]]:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.forward_timeout_s))
        url = f"http://{host}{path}"
        try:
            async with self._session.get(url, params=query) as response:
                raw = await response.read()
                try:
                    body = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    body = {"error": "upstream", "message": raw[:200].decode(errors="replace")}
                return response.status, body
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("query forward to %s failed: %r", host, exc)
            # a worker stopping or gone before the rebalance: retry, as for a restore
            raise _Failure(503, "owner unreachable", f"worker {host} did not answer: "
                           f"{type(exc).__name__}", worker=host, retry=True) from None

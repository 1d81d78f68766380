"""The emulator's core: requests, routing, the tenant store and emulated time.

Everything else in the package plugs into these few types:

* resource modules (``directory.py``, ``enrollment.py``, ``autopilot.py``) register handlers with
  :data:`ROUTER` through :func:`route`, and keep their state in a :class:`Tenant`;
* the transport (``server.py``) turns an HTTPS request into a :class:`Request`, and the
  application (``app.py``) runs the cross-cutting behaviours (auth, permissions, throttling,
  faults, the request log) around :meth:`Router.dispatch`.

A handler is ``handler(req, tenant, **path_params) -> Response``. It raises
:class:`GraphHTTPError` for every documented error; the application renders the Graph error
envelope ``{"error": {"code", "message", "innerError": {"request-id", "date"}}}``.
"""

import copy
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .profiles import DEFAULTS

READ_METHODS = frozenset(("GET", "HEAD"))


class GraphHTTPError(Exception):
    """An error answer in Graph's shape. ``headers`` may carry ``Retry-After``."""

    def __init__(self, status, code, message, headers=None):
        super().__init__("%s %s: %s" % (status, code, message))
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def not_found(what, key):
    return GraphHTTPError(404, "ResourceNotFound" if "/" not in what else "Request_ResourceNotFound",
                          "Resource '%s' does not exist or one of its queried reference-property objects "
                          "are not present. (%s)" % (key, what))


def bad_request(message, code="BadRequest"):
    return GraphHTTPError(400, code, message)


@dataclass
class Request:
    """One Graph request as the handlers see it.

    ``path`` is the part after the version prefix (``/groups/abc``), ``raw_path`` the full path with
    prefix and query string (as logged). ``query`` maps each query option to its (decoded) value;
    ``body`` is the parsed JSON body or ``None``. ``app`` is the registered application that the
    bearer token belongs to (set by the auth layer), ``base_url`` is ``https://host:port``.
    """

    method: str
    version: str
    path: str
    query: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    body: object = None
    raw_path: str = ""
    base_url: str = ""
    app: object = None
    request_id: str = ""

    def header(self, name, default=None):
        lname = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lname:
                return value
        return default

    def json_body(self):
        """The body as a JSON object, or a 400 in Graph's words."""
        if not isinstance(self.body, dict):
            raise bad_request("Empty Payload. JSON content expected.")
        return self.body

    @property
    def is_write(self):
        return self.method not in READ_METHODS


@dataclass
class Response:
    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)


def ok(body):
    return Response(200, body)


def created(body):
    return Response(201, body)


def no_content():
    return Response(204, None)


@dataclass
class Route:
    method: str
    pattern: str
    regex: object
    handler: object
    versions: tuple
    permissions: tuple
    workload: str


class Router:
    """Maps (method, version, path) to a handler; path patterns use ``{name}`` segments."""

    def __init__(self):
        self.routes = []

    def add(self, method, pattern, handler, versions=("beta", "v1.0"), permissions=(), workload=None):
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
        if workload is None:
            workload = pattern.strip("/").split("/")[0]
        self.routes.append(Route(method, pattern, regex, handler, tuple(versions), tuple(permissions), workload))

    def match(self, method, version, path):
        """Return ``(route, params)``; a known path with another method is a 405, an unknown one a 400."""
        path_known = False
        for candidate in self.routes:
            found = candidate.regex.match(path)
            if not found or version not in candidate.versions:
                continue
            path_known = True
            if candidate.method == method:
                return candidate, found.groupdict()
        if path_known:
            raise GraphHTTPError(405, "BadRequest", "No HTTP resource was found that matches the request URI "
                                 "and method %s." % method)
        raise GraphHTTPError(400, "BadRequest", "Resource not found for the segment '%s'."
                             % (path.strip("/").split("/") or [""])[-1])


ROUTER = Router()


def route(method, pattern, versions=("beta", "v1.0"), permissions=(), workload=None):
    """Decorator: register ``handler`` on the shared :data:`ROUTER`.

    ``permissions`` lists the application permissions of which any one allows the call (the docs'
    "least to most privileged" list); the application answers 403 ``Authorization_RequestDenied``
    when the token carries none of them.
    """

    def wrap(handler):
        ROUTER.add(method, pattern, handler, versions, permissions, workload)
        return handler

    return wrap


class Clock:
    """Emulated time: wall-clock time plus an offset that ``/_emulator/advance`` moves forward."""

    def __init__(self):
        self.offset = 0.0

    def now(self):
        return time.time() + self.offset

    def advance(self, seconds):
        self.offset += float(seconds)

    def iso(self, ts=None):
        moment = datetime.fromtimestamp(self.now() if ts is None else ts, tz=timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%07dZ" % (moment.microsecond * 10)


def new_id():
    return str(uuid.uuid4())


class Tenant:
    """The whole in-memory tenant.

    ``sets`` maps an entity-set name (``groups``, ``windowsAutopilotDeviceIdentities``, ...) to a dict
    ``id -> entity``. Entities are stored as Graph returns them; keys starting with ``_`` are the
    emulator's own bookkeeping (``_visible_at`` for replication delay, ``_created`` ...) and are never
    sent (:func:`public`). ``tickers`` run before every request, under the lock, to move time-driven
    state (import records, profile assignment status, sync) forward.
    """

    def __init__(self, tenant_id=None, settings=None):
        self.tenant_id = tenant_id or new_id()
        self.settings = dict(settings or {})
        self.clock = Clock()
        self.lock = threading.RLock()
        self.sets = {}
        self.tickers = []

    def set(self, name):
        return self.sets.setdefault(name, {})

    def delay(self, name):
        """Setting ``name``, a delay in the service's seconds, in seconds of the emulator's clock: divided by
        ``settings['time_scale']`` (profiles.py). Dates stay on the clock; only how long the service takes shrinks."""
        value = self.settings.get(name, DEFAULTS.get(name))
        return float(value or 0) / float(self.settings.get("time_scale") or 1)

    def add(self, set_name, entity, replicate=True):
        """Store ``entity`` (it must carry an ``id``); with ``replicate`` it stays out of lists and
        filters for ``settings['replication_delay']`` seconds, as a new directory object does."""
        delay = self.delay("replication_delay") if replicate else 0.0
        entity["_visible_at"] = self.clock.now() + delay
        self.set(set_name)[entity["id"]] = entity
        return entity

    def get(self, set_name, entity_id):
        return self.set(set_name).get(entity_id)

    def require(self, set_name, entity_id):
        entity = self.get(set_name, entity_id)
        if entity is None:
            raise not_found(set_name, entity_id)
        return entity

    def remove(self, set_name, entity_id):
        return self.set(set_name).pop(entity_id, None)

    def listed(self, set_name):
        """The entities a list or a filter returns now (replication delay applied), in insertion order."""
        now = self.clock.now()
        return [e for e in self.set(set_name).values() if e.get("_visible_at", 0) <= now]

    def tick(self):
        for ticker in self.tickers:
            ticker(self)

    def dump(self):
        """The tenant as JSON-able data (``/_emulator/state`` and ``--state``)."""
        return {
            "tenant_id": self.tenant_id,
            "clock_offset": self.clock.offset,
            "sets": copy.deepcopy(self.sets),
        }

    def load(self, data):
        self.tenant_id = data.get("tenant_id", self.tenant_id)
        self.clock.offset = float(data.get("clock_offset", 0.0))
        self.sets = copy.deepcopy(data.get("sets", {}))


def public(entity):
    """A copy of ``entity`` without the emulator's ``_`` bookkeeping keys (deep, for nested dicts)."""
    if isinstance(entity, dict):
        return {k: public(v) if isinstance(v, (dict, list)) else v for k, v in entity.items() if k[:1] != "_"}
    if isinstance(entity, list):
        return [public(v) if isinstance(v, (dict, list)) else v for v in entity]
    return entity


def odata_type_name(value):
    """``#microsoft.graph.groupAssignmentTarget`` or ``microsoft.graph.groupAssignmentTarget`` -> ``groupAssignmentTarget``."""
    if not isinstance(value, str):
        return None
    return value.lstrip("#").rsplit(".", 1)[-1]

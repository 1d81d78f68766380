"""Cross-cutting behaviours: throttling, injected faults and latency.

Throttling (on with ``--throttle`` / ``settings['throttle']``) follows two documented models, chosen by
the route's ``workload``: the directory routes (``users``, ``groups``, ``devices``: User, Group and
Device are among the identity-and-access resources of microsoftgraph/microsoft-graph-docs-contrib
includes/throttling-identity-and-access.md) use the identity-and-access model below; every other
route (``deviceManagement``, ``deviceAppManagement``) uses Intune's model.

Intune model: Intune's documented limits for the enrollment family, "POST, PUT, DELETE, PATCH: 100 per
20 seconds per app per tenant; any request: 1000 per 20 seconds per app per tenant"
(microsoftgraph/microsoft-graph-docs-contrib includes/throttling-intune-enrollment.md and
throttling-intune-device-enrollment.md). Modelled as a sliding window per (app, workload) where the
workload is the first path segment (``deviceManagement``, ``deviceAppManagement``), as Dev Proxy keys
its throttling (dotnet/dev-proxy GraphUtils.BuildThrottleKey).
A throttled call gets 429 ``TooManyRequests`` with ``Retry-After`` = whole seconds until the oldest
call in the window leaves it (concepts/throttling.md: wait ``Retry-After`` seconds, then retry).
Windows use the emulated clock, so ``/_emulator/advance`` skips the wait. Limits are settings
(``throttle_window``, ``throttle_requests``, ``throttle_writes``) so tests can use small numbers.

Identity-and-access (directory) model. Every number and rule is from microsoftgraph/microsoft-graph-docs-contrib
concepts/throttling-limits.md, section "Identity and access service limits" (same text at commits
e62a3c1d and 01351749), called [TL] below:

* "Throttling is based on a token bucket algorithm, which works by adding individual costs of
  requests"; "if any of the limits are exceeded, the response will be 429 Too Many Requests" [TL].
  Modelled as one token bucket per limit: it holds its quota when full and refills at quota / period
  (emulated clock). A request is admitted when every bucket it counts against holds its cost, and is
  then taken from all of them; otherwise 429 ``TooManyRequests`` with ``Retry-After`` = whole seconds
  until the refused bucket holds the cost again (at least 1; concepts/throttling.md). A cost larger
  than a whole bucket waits for a full bucket (emulator choice: the docs do not say).
* Limits [TL, limits table]:

  ==========================  ===========================================  =========================
  scope                       resource-unit (RU) quota                     write quota
  ==========================  ===========================================  =========================
  application+tenant pair     S 3,500 / M 5,000 / L 8,000 per 10 s         3,000 per 2 min 30 s
  application                 150,000 per 20 s                             70,000 per 5 min
  tenant                      not applicable                               18,000 per 5 min
  ==========================  ===========================================  =========================

  Tenant sizes "S - under 50 users, M - between 50 and 500 users, and L - above 500 users" [TL note].
  The tier is the setting ``throttle_tenant_size`` (default ``S``: the seeded tenant has a handful of
  users). The application scope is "per app across all tenants"; the emulator has one tenant, so that
  bucket sees the same requests as the pair's, with the larger quota. Settings for tests:
  ``throttle_directory_ru`` (0 = the tier's quota), ``throttle_directory_window`` (10),
  ``throttle_directory_writes`` (3,000) and ``throttle_directory_write_window`` (150) replace the
  pair's numbers; the application and tenant numbers are fixed.
* Costs [TL, base request costs table]: GET ``users`` (the list; ``users/{id}`` is not in the table) 2 RU,
  GET ``groups/{id}/members`` 3 RU (the emulator also charges 3 for the type-cast
  ``members/microsoft.graph.{type}``, a members read: emulator choice), any other GET 1 RU and 0 writes,
  POST/PATCH/PUT/DELETE 1 RU and 1 write. Then
  "Using ``$select`` decreases cost by 1", "Using ``$expand`` increases cost by 1", "Using ``$top`` with a
  value of less than 20 decreases cost by 1"; "A request cost can never be lower than 1" [TL]. (The B2C
  user-creation surcharge does not apply: the emulator's tenant is not B2C.)
* Headers [TL, "Additional headers"]: regular responses carry ``x-ms-resource-unit`` (the RU the request
  used, a positive integer) and, "only when the application consumed more than 0.8 of its limit",
  ``x-ms-throttle-limit-percentage`` (the fullest bucket's use, two decimals; the docs give 0.8-1.8,
  the emulator reaches at most 1.0 as it never admits past a limit). Throttled responses carry
  ``x-ms-throttle-scope`` ``<Scope>/<Limit>/<ApplicationId>/<TenantId>`` with Scope ``Tenant_Application``,
  ``Application`` or ``Tenant`` and Limit ``ReadWrite`` (the RU quota counts every request) or ``Write``,
  and ``x-ms-throttle-information`` ``ResourceUnitLimitExceeded`` or ``WriteLimitExceeded`` (two of the
  page's examples). The request header ``x-ms-throttle-priority`` is not modelled: it "does not change
  the limits", it only orders who is throttled first under load.
* Requests inside ``$batch`` are throttled and charged one by one, like every other request.

Faults, modelled on Dev Proxy's GraphRandomErrorPlugin and GenericRandomErrorPlugin
(dotnet/dev-proxy DevProxy.Plugins/Behavior/GraphRandomErrorPlugin.cs, GenericRandomErrorPlugin.cs): at
``fault_rate`` (seeded ``random.Random``) a Graph request gets one of ``fault_kinds``; scripted rules (method,
path glob, kind, count) fire first. Kinds:

``429``               429 TooManyRequests with ``Retry-After`` (``fault_retry_after``, default 5)
``429-no-retry-after`` 429 without the header (Intune endpoints do this; clients must back off)
``500`` ``502`` ``503`` ``504``  the status with a Graph error body, nothing applied
``503-retry-after`` ``504-retry-after``  the same with ``Retry-After`` (concepts/errors.md: 503 "may" carry it)
``slow``              answer normally after sleeping ``slow_ms`` (real time, to trip client timeouts)
``drop``              close the connection without answering, nothing applied
``drop-after``        apply the request, then close the connection without answering
``500-after``         apply the request, then answer 500
"""

import fnmatch
import math
import random
import threading
from collections import Counter, deque

from .core import GraphHTTPError

RANDOM_KINDS = ("429", "429-no-retry-after", "500", "502", "503", "504", "slow", "drop")
RETRY_AFTER_KINDS = ("429", "503-retry-after", "504-retry-after")
AFTER_KINDS = ("drop-after", "500-after")
ALL_KINDS = RANDOM_KINDS + ("503-retry-after", "504-retry-after") + AFTER_KINDS

# concepts/errors.md status descriptions; the 429 body is the "Sample response" of concepts/throttling.md
# (microsoftgraph/microsoft-graph-docs-contrib).
FAULT_ERRORS = {
    429: ("TooManyRequests", "Please retry again later."),
    500: ("generalException", "An unexpected error occurred while processing the request."),
    502: ("BadGateway", "The server, while acting as a gateway or proxy, received an invalid response from the upstream server."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable for maintenance or is overloaded. You may repeat "
                                 "the request after a delay, which may be specified in a Retry-After header."),
    504: ("GatewayTimeout", "The server, while acting as a proxy, did not receive a timely response from the upstream "
                            "server it needed to access in attempting to complete the request."),
}


def fault_error(status, retry_after=None):
    code, message = FAULT_ERRORS[status]
    headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
    return GraphHTTPError(status, code, message, headers)


# Identity-and-access throttling ([TL] in the module docstring).
DIRECTORY_WORKLOADS = ("users", "groups", "devices")
TENANT_SIZE_RU = {"S": 3500, "M": 5000, "L": 8000}  # RU per 10 s per application+tenant pair
APPLICATION_RU = (150000, 20.0)                      # RU per 20 s per application
APPLICATION_WRITES = (70000, 300.0)                  # writes per 5 min per application
TENANT_WRITES = (18000, 300.0)                       # writes per 5 min per tenant, all applications
# Base RU cost by (method, route pattern); any other GET costs 1, any write 1 RU and 1 write.
BASE_RU = {
    ("GET", "/users"): 2,
    ("GET", "/groups/{group_id}/members"): 3,
    ("GET", "/groups/{group_id}/members/microsoft.graph.{cast}"): 3,  # a members read (emulator choice)
}


def directory_cost(method, pattern, query):
    """``(resource units, writes)`` of one directory request, by the [TL] cost rules."""
    units = BASE_RU.get((method, pattern), 1)
    options = {str(k).lower(): v for k, v in (query or {}).items()}
    if "$select" in options:
        units -= 1
    if "$expand" in options:
        units += 1
    try:
        if int(options["$top"]) < 20:
            units -= 1
    except (KeyError, TypeError, ValueError):
        pass
    return max(1, units), (0 if method in ("GET", "HEAD") else 1)


class Throttle:
    def __init__(self):
        self.windows = {}
        self.buckets = {}
        self.lock = threading.Lock()
        self.throttled = 0

    def reset(self):
        with self.lock:
            self.windows.clear()
            self.buckets.clear()
            self.throttled = 0

    def check(self, tenant, client_id, route, req):
        """Count the call, or raise 429 when a limit is reached; returns headers for the answer."""
        if not tenant.settings.get("throttle"):
            return {}
        if route.workload in DIRECTORY_WORKLOADS:
            units, writes = directory_cost(req.method, route.pattern, req.query)
            return self._directory(tenant, client_id, units, writes)
        self._intune(tenant, client_id, route.workload, req.is_write)
        return {}

    def _intune(self, tenant, client_id, workload, is_write):
        """Sliding windows per (app, workload): all requests, and writes."""
        settings = tenant.settings
        window = float(settings.get("throttle_window", 20))
        limits = (("any", int(settings.get("throttle_requests", 1000))),) + \
            ((("write", int(settings.get("throttle_writes", 100))),) if is_write else ())
        now = tenant.clock.now()
        with self.lock:
            queues = []
            for kind, limit in limits:
                queue = self.windows.setdefault((client_id, workload, kind), deque())
                while queue and queue[0] <= now - window:
                    queue.popleft()
                if len(queue) >= limit:
                    self.throttled += 1
                    wait = max(1, math.ceil(queue[len(queue) - limit] + window - now))
                    raise GraphHTTPError(429, "TooManyRequests", "Too many requests. Please retry again later.",
                                         {"Retry-After": str(wait)})
                queues.append(queue)
            for queue in queues:
                queue.append(now)

    def directory_limits(self, tenant, client_id):
        """``(scope, limit, key, quota, period)`` of every identity-and-access bucket a request may count against."""
        settings = tenant.settings
        size = str(settings.get("throttle_tenant_size") or "S").upper()
        if size not in TENANT_SIZE_RU:
            raise ValueError("throttle_tenant_size must be S, M or L, not %r" % size)
        pair_ru = int(settings.get("throttle_directory_ru") or 0) or TENANT_SIZE_RU[size]
        return (
            ("Tenant_Application", "ReadWrite", client_id, pair_ru, float(settings.get("throttle_directory_window", 10))),
            ("Tenant_Application", "Write", client_id, int(settings.get("throttle_directory_writes", 3000)),
             float(settings.get("throttle_directory_write_window", 150))),
            ("Application", "ReadWrite", client_id) + APPLICATION_RU,
            ("Application", "Write", client_id) + APPLICATION_WRITES,
            ("Tenant", "Write", None) + TENANT_WRITES,
        )

    def _directory(self, tenant, client_id, units, writes):
        now = tenant.clock.now()
        with self.lock:
            taken = []
            for scope, limit, key, quota, period in self.directory_limits(tenant, client_id):
                cost = units if limit == "ReadWrite" else writes
                if not cost:
                    continue
                bucket = self.buckets.setdefault((scope, limit, key), [float(quota), now])
                rate = quota / period
                tokens = min(float(quota), bucket[0] + (now - bucket[1]) * rate)
                bucket[:] = [tokens, now]
                need = min(cost, quota)
                if tokens < need:
                    self.throttled += 1
                    wait = max(1, math.ceil((need - tokens) / rate))
                    reason = "ResourceUnitLimitExceeded" if limit == "ReadWrite" else "WriteLimitExceeded"
                    raise GraphHTTPError(429, "TooManyRequests", "Too many requests. Please retry again later.",
                                         {"Retry-After": str(wait),
                                          "x-ms-throttle-scope": "%s/%s/%s/%s" % (scope, limit, client_id, tenant.tenant_id),
                                          "x-ms-throttle-information": reason})
                taken.append((bucket, cost, quota))
            used = 0.0
            for bucket, cost, quota in taken:
                bucket[0] = max(0.0, bucket[0] - cost)
                used = max(used, (quota - bucket[0]) / quota)
        headers = {"x-ms-resource-unit": str(units)}
        if round(used, 2) > 0.8:
            headers["x-ms-throttle-limit-percentage"] = "%.2f" % used
        return headers


class Fault:
    def __init__(self, kind, retry_after=None, slow_ms=None):
        self.kind = kind
        self.retry_after = retry_after
        self.slow_ms = slow_ms

    @property
    def after(self):
        return self.kind in AFTER_KINDS


class Faults:
    def __init__(self, seed=0):
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.seed = seed
        self.rate = 0.0
        self.kinds = list(RANDOM_KINDS)
        self.retry_after = 5
        self.slow_ms = 3000
        self.rules = []
        self.counters = Counter()

    def configure(self, data):
        """Update from a ``POST /_emulator/faults`` body; raises ``ValueError`` for bad input."""
        with self.lock:
            if "seed" in data:
                self.seed = data["seed"]
                self.rng = random.Random(self.seed)
            if "rate" in data:
                rate = float(data["rate"])
                if not 0 <= rate <= 1:
                    raise ValueError("rate must be between 0 and 1")
                self.rate = rate
            if "kinds" in data:
                unknown = [k for k in data["kinds"] if k not in ALL_KINDS]
                if unknown or not data["kinds"]:
                    raise ValueError("unknown fault kinds %s; known: %s" % (unknown, ", ".join(ALL_KINDS)))
                self.kinds = list(data["kinds"])
            if "retry_after" in data:
                self.retry_after = data["retry_after"]
            if "slow_ms" in data:
                self.slow_ms = int(data["slow_ms"])
            if data.get("clear_rules"):
                self.rules = []
            for rule in data.get("rules", []):
                if rule.get("fault") not in ALL_KINDS:
                    raise ValueError("rule fault must be one of %s" % ", ".join(ALL_KINDS))
                self.rules.append({"method": str(rule.get("method", "*")).upper(), "path": rule.get("path", "*"),
                                   "fault": rule["fault"], "count": int(rule.get("count", 1)),
                                   "retry_after": rule.get("retry_after", self.retry_after),
                                   "slow_ms": int(rule.get("slow_ms", self.slow_ms))})

    def reset(self):
        with self.lock:
            self.rng = random.Random(self.seed)
            self.rate = 0.0
            self.kinds = list(RANDOM_KINDS)
            self.retry_after = 5
            self.slow_ms = 3000
            self.rules = []
            self.counters.clear()

    def describe(self):
        with self.lock:
            return {"seed": self.seed, "rate": self.rate, "kinds": list(self.kinds), "retry_after": self.retry_after,
                    "slow_ms": self.slow_ms, "rules": [dict(r) for r in self.rules], "injected": dict(self.counters)}

    def pick(self, method, path, full_path, droppable=True, scripted_only=False):
        """The fault for this request, or ``None``. ``path`` is without the version prefix and query.
        ``scripted_only``: rules only, no random draw (token requests: the random rate is per Graph request)."""
        with self.lock:
            for rule in self.rules:
                if rule["count"] == 0:
                    continue
                if rule["method"] not in ("*", method):
                    continue
                if not (fnmatch.fnmatchcase(path, rule["path"]) or fnmatch.fnmatchcase(full_path, rule["path"])):
                    continue
                if not droppable and rule["fault"].startswith("drop"):
                    continue
                if rule["count"] > 0:
                    rule["count"] -= 1
                self.counters[rule["fault"]] += 1
                return Fault(rule["fault"], rule["retry_after"], rule["slow_ms"])
            if self.rate and not scripted_only and self.rng.random() < self.rate:
                kinds = [k for k in self.kinds if droppable or not k.startswith("drop")] or ["500"]
                kind = self.rng.choice(kinds)
                self.counters[kind] += 1
                return Fault(kind, self.retry_after, self.slow_ms)
        return None

"""Cross-cutting behaviours: throttling, injected faults and latency.

Throttling (on with ``--throttle`` / ``settings['throttle']``): Intune's documented limits for the
enrollment family, "POST, PUT, DELETE, PATCH: 100 per 20 seconds per app per tenant; any request:
1000 per 20 seconds per app per tenant" (microsoftgraph/microsoft-graph-docs-contrib
includes/throttling-intune-enrollment.md and throttling-intune-device-enrollment.md). Modelled as a
sliding window per (app, workload) where the workload is the first path segment (``deviceManagement``,
``groups`` ...), as Dev Proxy keys its throttling (dotnet/dev-proxy GraphUtils.BuildThrottleKey).
A throttled call gets 429 ``TooManyRequests`` with ``Retry-After`` = whole seconds until the oldest
call in the window leaves it (concepts/throttling.md: wait ``Retry-After`` seconds, then retry).
Windows use the emulated clock, so ``/_emulator/advance`` skips the wait. Limits are settings
(``throttle_window``, ``throttle_requests``, ``throttle_writes``) so tests can use small numbers.

Faults, modelled on Dev Proxy's GraphRandomErrorPlugin and GenericRandomErrorPlugin
(/work/shared/reference/emulator-and-auth.md section c): at ``fault_rate`` (seeded
``random.Random``) a Graph request gets one of ``fault_kinds``; scripted rules (method, path glob,
kind, count) fire first. Kinds:

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

# concepts/errors.md status descriptions; the 429 body is the one quoted from the throttling page
# (graph-api.md section 6.3, NOT-DOCS).
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


class Throttle:
    def __init__(self):
        self.windows = {}
        self.lock = threading.Lock()
        self.throttled = 0

    def reset(self):
        with self.lock:
            self.windows.clear()
            self.throttled = 0

    def check(self, tenant, client_id, workload, is_write):
        """Count the call, or raise 429 when the app's window for this workload is full."""
        settings = tenant.settings
        if not settings.get("throttle"):
            return
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

"""The request pipeline: one HTTP request in, one answer (or a dropped connection) out.

Paths: ``/_emulator/...`` (control API, no auth), ``/{tenant}/v2.0/.well-known/openid-configuration``
and ``/{tenant}/oauth2/v2.0/token`` (token service), ``/beta/...`` and ``/v1.0/...`` (Graph).

A Graph request runs: ``tenant.tick()`` -> bearer check (401) -> route match (400/405) -> permission
check (403) -> throttling (429) -> injected fault -> latency -> handler -> render. Every answer carries
``request-id`` and ``client-request-id`` headers (concepts/errors.md shows both in ``innerError``);
JSON answers use Graph's content type
``application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8``.
Errors use the envelope ``{"error": {"code", "message", "innerError": {"date", "request-id",
"client-request-id"}}}`` (concepts/errors.md); ``innerError.date`` has no time zone, as Graph sends it.
"""

import json
import os
import random
import sys
import time
import traceback
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qsl, unquote, urlsplit

from . import auth, batch, control, core, profiles, seed
from .behaviours import RETRY_AFTER_KINDS, Faults, Throttle, fault_error
from .requestlog import RequestLog

for _module in ("directory", "enrollment", "autopilot"):  # importing them registers their routes
    __import__("%s.%s" % (__package__, _module))

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
VERSIONS = ("beta", "v1.0")
DROP = object()
# A tenant without an Intune licence answers these with 400 "Request not applicable to target tenant." (field
# reports: KelvinTegelaar/CIPP-API Modules/CIPPCore/Public/GraphHelper/Get-NormalizedError.ps1; Microsoft documents none).
INTUNE_PATHS = ("/deviceManagement", "/deviceAppManagement")


class GraphApp:
    """The emulator minus its transport: tenant, registered apps, behaviours and the request log."""

    def __init__(self, settings=None, request_log=None, tenant_id=None):
        self.explicit = dict((k, v) for k, v in (settings or {}).items() if v is not None)
        self.base_settings = profiles.resolve(self.explicit)
        self.registry = auth.Registry()
        self.tenant = seed.new_tenant(tenant_id, self.base_settings)
        self.log = RequestLog(request_log)
        self.throttle = Throttle()
        self.faults = Faults(self.base_settings.get("seed", 0))
        self.batch_rng = random.Random(self.base_settings.get("seed", 0))  # batch.py: the order of $batch requests
        if self.base_settings.get("fault_rate"):
            self.faults.configure({"rate": self.base_settings["fault_rate"]})

    # --- lifecycle used by control.py -----------------------------------------------------------

    def reset(self, settings=None):
        """A fresh tenant on the start profile and settings, with ``settings`` (which may name another profile) over them."""
        merged = profiles.resolve(dict(self.explicit, **(settings or {})))
        self.tenant = seed.new_tenant(self.tenant.tenant_id, merged)
        self.throttle.reset()
        self.faults.reset()
        self.batch_rng = random.Random(merged.get("seed", 0))
        if merged.get("fault_rate"):
            self.faults.configure({"rate": merged["fault_rate"]})
        self.log.clear()

    def dump_public(self):
        """The tenant and its settings (``GET /_emulator/state``): no application secrets."""
        with self.tenant.lock:
            data = self.tenant.dump()
        data["settings"] = dict(self.tenant.settings)
        return data

    def dump(self):
        """What a state file holds: the tenant, its settings and the registered applications."""
        data = self.dump_public()
        data["apps"] = [a.dump() for a in self.registry.apps.values() if not getattr(a, "ephemeral", False)]
        return data

    def save(self, path):
        tmp = "%s.tmp" % path
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(self.dump(), handle, indent=1, sort_keys=True)
        os.replace(tmp, path)

    def load(self, data):
        settings = dict(self.base_settings)
        settings.update(data.get("settings") or {})
        fresh = seed.new_tenant(data.get("tenant_id"), settings, populate=False)
        fresh.load(data)
        self.tenant = fresh
        for saved in data.get("apps", []):
            cert = {"cert_pem": saved["cert_pem"]} if saved.get("cert_pem") else None
            self.registry.register(saved["client_id"], saved.get("display_name", "app"), saved.get("secret"), cert,
                                   saved.get("roles", auth.DEFAULT_ROLES))

    # --- HTTP entry point -------------------------------------------------------------------------

    def handle_http(self, method, target, headers, raw_body, base_url):
        """Return ``(status, headers, payload bytes)`` or :data:`DROP` to close without answering."""
        split = urlsplit(target)
        path = unquote(split.path)
        segments = path.strip("/").split("/")
        request_id = str(uuid.uuid4())
        client_request_id = headers.get("client-request-id") or request_id
        if segments[0] == "_emulator":
            query = dict(parse_qsl(split.query, keep_blank_values=True))
            status, body = control.handle(self, method, "/" + "/".join(segments[1:]), query, _json(raw_body))
            return self._render(status, body, {}, request_id, client_request_id)
        if segments[0] in VERSIONS:
            return self._graph_http(method, target, split, segments, headers, raw_body, base_url,
                                    request_id, client_request_id)
        if len(segments) >= 4 and segments[1:] == ["v2.0", ".well-known", "openid-configuration"] and method == "GET":
            status, body = auth.discovery(self.tenant, base_url, segments[0])
            return self._token_answer(method, target, None, status, body, request_id, client_request_id)
        if len(segments) == 4 and segments[1:] == ["oauth2", "v2.0", "token"] and method == "POST":
            form = auth.parse_form(raw_body)
            fault = self.faults.pick(method, path, path, droppable=True, scripted_only=True) if self.faults.rules else None
            if fault is not None and fault.kind.startswith("drop"):
                self.log.append({"ts": self.tenant.clock.iso(), "method": method, "path": target, "status": None,
                                 "request_body": form, "response_body": None, "request_id": request_id, "fault": fault.kind})
                return DROP
            if fault is not None and fault.kind in ("500", "502", "503", "504", "429", "429-no-retry-after"):
                status = int(fault.kind[:3])
                # A throttled client-credentials request gets "429 Too Many Requests, with a Retry-After: 60 header"
                # (learn.microsoft.com/entra/msal/dotnet/advanced/client-and-server-throttling); the body is the text
                # "Too Many Requests", not an OAuth error object (AzureAD/microsoft-authentication-library-for-dotnet
                # issue 2855). The Retry-After here is the fault's (fault_retry_after), 60 in the real service.
                if status == 429:
                    body = "Too Many Requests"
                else:
                    body = {"error": "temporarily_unavailable", "error_description": "Injected fault %s." % fault.kind}
                headers_out = {"Retry-After": str(fault.retry_after)} if fault.kind in ("429",) else {}
                return self._token_answer(method, target, form, status, body, request_id, client_request_id,
                                          headers_out, fault.kind)
            status, body = auth.token(self.registry, self.tenant, base_url, segments[0], form, headers.get("Authorization"))
            return self._token_answer(method, target, form, status, body, request_id, client_request_id)
        error = core.GraphHTTPError(404, "NotFound", "The emulator serves /beta, /v1.0, /{tenant}/oauth2/v2.0/token, "
                                                     "/{tenant}/v2.0/.well-known/openid-configuration and /_emulator.")
        return self._render(error.status, error_body(error, request_id, client_request_id), {}, request_id, client_request_id)

    def _token_answer(self, method, target, form, status, body, request_id, client_request_id, headers=None, fault=None):
        entry = {"ts": self.tenant.clock.iso(), "method": method, "path": target, "status": status,
                 "request_body": form, "response_body": body, "request_id": request_id}
        if fault:
            entry["fault"] = fault
        self.log.append(entry)
        out = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}
        out.update(headers or {})
        return self._render(status, body, out, request_id, client_request_id)

    def _graph_http(self, method, target, split, segments, headers, raw_body, base_url, request_id, client_request_id):
        try:
            body = _json(raw_body, strict=True)
        except ValueError:
            body = _BAD_JSON
        req = core.Request(method=method, version=segments[0], path="/" + "/".join(segments[1:]),
                           query=dict(parse_qsl(split.query, keep_blank_values=True)), headers=dict(headers.items()),
                           body=body, raw_path=target, base_url=base_url, request_id=request_id)
        response, fault = self.dispatch(req, client_request_id=client_request_id)
        if fault is not None and fault.kind in ("drop", "drop-after"):
            return DROP
        return self._render(response.status, response.body, response.headers, request_id, client_request_id)

    # --- the Graph pipeline (also used for each inner $batch request) ---------------------------------

    def dispatch(self, req, client_request_id=None, batch_request_id=None):
        """Run one Graph request through every behaviour; returns ``(Response, Fault or None)``."""
        tenant = self.tenant
        client_request_id = client_request_id or req.header("client-request-id") or req.request_id
        fault = None
        throttled = False
        throttle_headers = {}
        try:
            if req.body is _BAD_JSON:
                req.body = None
                raise core.GraphHTTPError(400, "BadRequest", "Unable to read JSON request payload. Please ensure "
                                                             "Content-Type header is set and payload is of valid JSON format.")
            with tenant.lock:
                tenant.tick()
            req.app = self.registry.authenticate(req.header("Authorization"), tenant)
            if req.path == "/$batch" and batch_request_id is None:
                if req.method != "POST":
                    raise core.GraphHTTPError(405, "BadRequest", "No HTTP resource was found that matches the request "
                                                                 "URI and method %s." % req.method)
                route, params = None, {}
            else:
                route, params = core.ROUTER.match(req.method, req.version, req.path)
                auth.authorize(req.app, route.permissions)
                if not tenant.settings.get("intune_licensed", True) and req.path.startswith(INTUNE_PATHS):
                    raise core.GraphHTTPError(400, "BadRequest", "Request not applicable to target tenant.")
                try:
                    throttle_headers = self.throttle.check(tenant, req.app.client_id, route, req)
                except core.GraphHTTPError:
                    throttled = True
                    raise
            fault = self.faults.pick(req.method, req.path, "/%s%s" % (req.version, req.path),
                                     droppable=batch_request_id is None)
            if fault is not None and not fault.after:
                if fault.kind == "slow":
                    time.sleep(fault.slow_ms / 1000.0)
                elif fault.kind != "drop":
                    status = int(fault.kind[:3])
                    raise fault_error(status, fault.retry_after if fault.kind in RETRY_AFTER_KINDS else None)
            latency = tenant.settings.get("latency_ms") or 0
            if latency:
                time.sleep(float(latency) / 1000.0)
            if fault is not None and fault.kind == "drop":
                response = core.Response(0, None)
            elif route is None:
                response = batch.handle(self, req)
            else:
                with tenant.lock:
                    response = route.handler(req, tenant, **params)
            if fault is not None and fault.kind == "500-after":
                raise fault_error(500)
        except core.GraphHTTPError as exc:
            response = core.Response(exc.status, error_body(exc, req.request_id, client_request_id, tenant), dict(exc.headers))
        except Exception as exc:  # a bug in a handler: answer like Graph, show the traceback on stderr
            traceback.print_exc(file=sys.stderr)
            error = core.GraphHTTPError(500, "generalException", "Emulator handler error: %s: %s" % (type(exc).__name__, exc))
            response = core.Response(500, error_body(error, req.request_id, client_request_id, tenant))
        for name, value in throttle_headers.items():  # x-ms-resource-unit ... (directory routes, behaviours.py)
            response.headers.setdefault(name, value)
        response.headers.setdefault("request-id", req.request_id)
        response.headers.setdefault("client-request-id", client_request_id)
        entry = {"ts": tenant.clock.iso(), "method": req.method, "path": req.raw_path, "status": response.status,
                 "request_body": req.body, "response_body": response.body, "request_id": req.request_id}
        if batch_request_id:
            entry["batch_request_id"] = batch_request_id
        if fault is not None:
            entry["fault"] = fault.kind
            if fault.kind.startswith("drop"):
                entry["status"] = None
                entry["response_body"] = None
        if throttled:
            entry["throttled"] = True
        self.log.append(entry)
        return response, fault

    def _render(self, status, body, headers, request_id, client_request_id):
        out = {"request-id": request_id, "client-request-id": client_request_id}
        out.update(headers or {})
        if body is None:
            payload = b""
        elif isinstance(body, str):
            payload = body.encode("utf-8")
            out.setdefault("Content-Type", "text/plain;charset=utf-8")
        else:
            payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
            out.setdefault("Content-Type", JSON_TYPE)
        return status, out, payload


_BAD_JSON = object()


def _json(raw, strict=False):
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        if strict:
            raise ValueError("not JSON")
        return None


def error_body(exc, request_id, client_request_id, tenant=None):
    moment = datetime.fromtimestamp(tenant.clock.now() if tenant else time.time(), tz=timezone.utc)
    return {"error": {"code": exc.code, "message": exc.message,
                      "innerError": {"date": moment.strftime("%Y-%m-%dT%H:%M:%S"), "request-id": request_id,
                                     "client-request-id": client_request_id}}}

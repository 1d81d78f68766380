"""Helpers for the Intune resource tests: one tenant, requests dispatched through the router.

The tests call the handlers the way the application does (``tenant.tick()`` under the lock, then the routed
handler) and keep Graph's error envelope, so they check status codes and bodies without a TLS server. The
HTTP-level tests of the framework (auth, permissions, throttling) live in the framework's own test files.
"""

import json
import os
import subprocess
import sys

from tests.graph_emulator import core, seed

CHECKER = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "graph_schema", "check.py")


class Client:
    def __init__(self, settings=None):
        base = {"import_delay": 5.0, "profile_assignment_delay": 30.0, "page_size": 100}
        base.update(settings or {})
        self.tenant = seed.new_tenant(None, base)
        self.log = []

    def call(self, method, path, body=None, query=None, version="beta"):
        req = core.Request(method=method, version=version, path=path, query=dict(query or {}), headers={},
                           body=body, raw_path="/%s%s" % (version, path), base_url="https://127.0.0.1:1",
                           request_id=core.new_id())
        tenant = self.tenant
        try:
            with tenant.lock:
                tenant.tick()
                route, params = core.ROUTER.match(method, version, path)
                response = route.handler(req, tenant, **params)
            status, out, headers = response.status, response.body, response.headers
        except core.GraphHTTPError as exc:
            status, out, headers = exc.status, {"error": {"code": exc.code, "message": exc.message}}, exc.headers
        self.log.append({"method": method, "path": req.raw_path, "status": status, "request_body": body,
                         "response_body": out})
        return Result(status, out, headers)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body=body, **kw)

    def patch(self, path, body, **kw):
        return self.call("PATCH", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    def advance(self, seconds):
        self.tenant.clock.advance(seconds)

    def all_pages(self, path, query=None, version="beta"):
        items, query = [], dict(query or {})
        while True:
            result = self.get(path, query=query, version=version)
            assert result.status == 200, result.body
            items.extend(result.body["value"])
            link = result.body.get("@odata.nextLink")
            if not link:
                return items
            token = link.split("$skiptoken=")[1].split("&")[0]
            query["$skiptoken"] = token

    def group(self, name, rule=None, tenant_members=()):
        body = {"displayName": name, "mailEnabled": False, "mailNickname": name.replace(" ", ""),
                "securityEnabled": True}
        if rule:
            body.update(groupTypes=["DynamicMembership"], membershipRule=rule, membershipRuleProcessingState="On")
        result = self.post("/groups", body, version="v1.0")
        assert result.status == 201, result.body
        return result.body["id"]

    def schema_check(self, tmp_path):
        """Run the published-schema checker over everything this client sent and received."""
        log = tmp_path / "requests.jsonl"
        with open(log, "w") as handle:
            for entry in self.log:
                handle.write(json.dumps(entry) + "\n")
        done = subprocess.run([sys.executable, CHECKER, "--log", str(log)], capture_output=True, text=True, check=False)
        return done.returncode, done.stdout + done.stderr


class Result:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers

    def __repr__(self):
        return "Result(%s, %s)" % (self.status, json.dumps(self.body)[:500])

    @property
    def error_code(self):
        return (self.body or {}).get("error", {}).get("code")

    @property
    def error_text(self):
        """The error message; Intune's JSON-in-message form is unpacked to its ``Message``."""
        message = (self.body or {}).get("error", {}).get("message", "")
        try:
            return json.loads(message)["Message"]
        except (ValueError, KeyError, TypeError):
            return message

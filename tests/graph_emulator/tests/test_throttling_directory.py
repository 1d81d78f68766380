"""Identity-and-access (directory) throttling under ``--throttle``: resource units, write quotas, headers.

The numbers are Microsoft's (concepts/throttling-limits.md, "Identity and access service limits"; see the
docstring of behaviours.py): per application+tenant pair S 3,500 / M 5,000 / L 8,000 RU per 10 s and 3,000
writes per 150 s; per application 150,000 RU per 20 s; per tenant 18,000 writes per 5 min. GET ``users``
costs 2 RU, GET ``groups/{id}/members`` 3, any other GET 1, a write 1 RU and 1 write; ``$select`` -1,
``$expand`` +1, ``$top`` < 20 -1, never below 1. Intune routes keep Intune's sliding windows.

HTTP tests shrink the pair's quota with a long period (settings ``throttle_directory_ru`` / ``_window`` /
``_writes`` / ``_write_window``) so the real-time clock cannot refill a bucket between calls; the tests with
Microsoft's own numbers call :class:`Throttle` directly with a stopped clock.
"""

import types

import pytest

from tests.graph_emulator import core
from tests.graph_emulator.profiles import DEFAULTS as DEFAULT_SETTINGS
from tests.graph_emulator.behaviours import Throttle

from .test_directory import security_group

ENROLLMENT = "/deviceManagement/deviceEnrollmentConfigurations"
ESP = {"@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration", "displayName": "ESP"}


def scope(emulator, scope_name, limit):
    return "%s/%s/%s/%s" % (scope_name, limit, emulator.client_id, emulator.tenant_id)


def test_directory_get_flood_is_limited_by_resource_units_not_intune_numbers(graph, emulator, control):
    # Intune's numbers at 3 requests: the old model answered 429 on the 4th GET /groups.
    control("PATCH", "settings", {"throttle": True, "throttle_requests": 3, "throttle_writes": 1,
                                  "throttle_directory_ru": 10, "throttle_directory_window": 600})
    answers = [graph.get("/groups") for _dummy in range(10)]
    assert [a.status_code for a in answers] == [200] * 10
    assert {a.headers["x-ms-resource-unit"] for a in answers} == {"1"}
    assert all("x-ms-throttle-limit-percentage" not in a.headers for a in answers[:7])  # at most 0.8 used
    assert float(answers[9].headers["x-ms-throttle-limit-percentage"]) > 0.8
    throttled = graph.get("/groups")
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    assert throttled.headers["x-ms-throttle-scope"] == scope(emulator, "Tenant_Application", "ReadWrite")
    assert throttled.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
    assert "x-ms-resource-unit" not in throttled.headers
    wait = int(throttled.headers["Retry-After"])
    assert 50 <= wait <= 60  # 10 RU per 600 s: one RU back every 60 s
    assert control("GET", "faults")["throttled"] == 1
    assert [e["status"] for e in control("GET", "requests")["requests"] if e.get("throttled")] == [429]
    control("POST", "advance", {"seconds": wait})
    assert graph.get("/groups").status_code == 200


def test_members_and_users_reads_cost_more_than_a_plain_get(graph, emulator, control):
    group_id = graph.post("/groups", json=security_group("costs")).json()["id"]
    control("PATCH", "settings", {"throttle": True, "throttle_directory_ru": 1000})
    costs = {
        "/groups": "1", "/groups/%s" % group_id: "1", "/devices": "1",
        "/users": "2", "/users?$select=id": "1", "/users?$top=5": "1", "/users?$top=20": "2",
        "/users?$select=id&$top=5": "1",  # never below 1
        "/groups/%s/members" % group_id: "3", "/groups/%s/members?$top=5" % group_id: "2",
        "/groups/%s/members?$select=id&$top=5" % group_id: "1",
        "/groups/%s/members/microsoft.graph.device" % group_id: "3",
    }
    for path, cost in costs.items():
        answer = graph.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["x-ms-resource-unit"] == cost, path
    patched = graph.patch("/groups/%s" % group_id, json={"description": "x"})
    assert patched.status_code == 204 and patched.headers["x-ms-resource-unit"] == "1"


def test_members_reads_spend_the_budget_three_times_faster(graph, emulator, control):
    group_id = graph.post("/groups", json=security_group("members")).json()["id"]
    control("PATCH", "settings", {"throttle": True, "throttle_directory_ru": 9, "throttle_directory_window": 900})
    assert [graph.get("/groups/%s/members" % group_id).status_code for _dummy in range(3)] == [200, 200, 200]
    refused = graph.get("/groups")  # 9 RU spent by three reads; a plain GET finds no unit left
    assert refused.status_code == 429 and refused.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
    control("POST", "reset")
    control("PATCH", "settings", {"throttle": True, "throttle_directory_ru": 9, "throttle_directory_window": 900})
    assert [graph.get("/groups").status_code for _dummy in range(9)] == [200] * 9  # the same budget: nine plain GETs


def test_directory_writes_are_limited_by_the_write_quota(graph, graph_beta, emulator, control):
    control("PATCH", "settings", {"throttle": True, "throttle_directory_writes": 2, "throttle_directory_write_window": 600})
    created = [graph.post("/groups", json=security_group(name)) for name in ("a", "b")]
    assert [c.status_code for c in created] == [201, 201]
    third = graph.post("/groups", json=security_group("c"))
    assert third.status_code == 429
    assert third.headers["x-ms-throttle-scope"] == scope(emulator, "Tenant_Application", "Write")
    assert third.headers["x-ms-throttle-information"] == "WriteLimitExceeded"
    assert 250 <= int(third.headers["Retry-After"]) <= 300  # 2 writes per 600 s: one back every 300 s
    assert sorted(g["displayName"] for g in emulator.tenant.set("groups").values()) == ["a", "b"]
    patch = graph.patch("/groups/%s" % created[0].json()["id"], json={"description": "refused"})
    assert patch.status_code == 429 and emulator.tenant.get("groups", created[0].json()["id"]).get("description") != "refused"
    assert graph.get("/groups").status_code == 200  # reads cost no write
    assert graph_beta.post(ENROLLMENT, json=ESP).status_code == 201  # Intune writes: Intune's own windows


def test_intune_routes_keep_the_intune_model(graph_beta, emulator, control):
    control("PATCH", "settings", {"throttle": True, "throttle_requests": 2, "throttle_window": 600})
    answers = [graph_beta.get(ENROLLMENT) for _dummy in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert all("x-ms-resource-unit" not in a.headers for a in answers)
    throttled = graph_beta.get(ENROLLMENT)
    assert throttled.status_code == 429 and 590 <= int(throttled.headers["Retry-After"]) <= 600
    assert "x-ms-throttle-scope" not in throttled.headers and "x-ms-throttle-information" not in throttled.headers
    assert [graph_beta.get("/groups").status_code for _dummy in range(3)] == [200] * 3  # directory: resource units


def test_batch_inner_directory_requests_are_charged_one_by_one(graph, emulator, control):
    control("PATCH", "settings", {"throttle": True, "throttle_directory_ru": 5, "throttle_directory_window": 600})
    batch = {"requests": [{"id": str(i), "method": "GET", "url": "/users"} for i in range(3)]}
    responses = graph.post("/$batch", json=batch).json()["responses"]
    assert [r["status"] for r in responses] == [200, 200, 429]  # 2 + 2 RU of 5; the third needs 2
    assert [r["headers"]["x-ms-resource-unit"] for r in responses[:2]] == ["2", "2"]
    assert responses[2]["headers"]["x-ms-throttle-scope"] == scope(emulator, "Tenant_Application", "ReadWrite")
    assert int(responses[2]["headers"]["Retry-After"]) >= 60  # 1 RU short at 1 RU per 120 s
    assert graph.get("/groups").status_code == 200  # the one unit left pays for a plain GET


def test_throttling_off_sends_no_resource_unit_header(graph, control):
    assert "x-ms-resource-unit" not in graph.get("/users").headers


# --- Microsoft's own numbers, on the Throttle itself with a stopped clock ------------------------------------------


class StoppedClock:
    def now(self):
        return 1000.0


def tenant_with(**settings):
    merged = dict(DEFAULT_SETTINGS, throttle=True)
    merged.update(settings)
    return types.SimpleNamespace(settings=merged, clock=StoppedClock(), tenant_id="tenant-1")


def call(throttle, tenant, method, path, client_id="app-1", query=None):
    route, _params = core.ROUTER.match(method, "v1.0", path)
    return throttle.check(tenant, client_id, route, core.Request(method=method, version="v1.0", path=path, query=query or {}))


def admitted(throttle, tenant, method, path, client_id="app-1", most=200000):
    """How many calls pass before the first 429, and that 429."""
    for count in range(most):
        try:
            call(throttle, tenant, method, path, client_id)
        except core.GraphHTTPError as exc:
            return count, exc
    raise AssertionError("never throttled")


def test_default_tier_is_small_tenant():
    assert DEFAULT_SETTINGS["throttle_tenant_size"] == "S"


@pytest.mark.parametrize("size,quota", [("S", 3500), ("M", 5000), ("L", 8000)])
def test_tenant_size_tiers_resource_units_per_ten_seconds(size, quota):
    tenant = tenant_with(throttle_tenant_size=size)
    count, refused = admitted(Throttle(), tenant, "GET", "/groups")
    assert count == quota  # Intune's 1,000 requests per 20 s do not apply
    assert refused.status == 429 and refused.headers["Retry-After"] == "1"
    assert refused.headers["x-ms-throttle-scope"] == "Tenant_Application/ReadWrite/app-1/tenant-1"
    throttle = Throttle()
    assert admitted(throttle, tenant, "GET", "/users")[0] == quota // 2  # 2 RU each
    tenant.clock = types.SimpleNamespace(now=lambda: 1010.0)  # a full period later the bucket is full again
    assert admitted(throttle, tenant, "GET", "/users")[0] == quota // 2


def test_pair_write_quota_and_its_refill():
    tenant = tenant_with()
    throttle = Throttle()
    count, refused = admitted(throttle, tenant, "POST", "/groups")
    assert count == 3000
    assert refused.headers["x-ms-throttle-scope"] == "Tenant_Application/Write/app-1/tenant-1"
    assert refused.headers["Retry-After"] == "1"  # 3,000 per 150 s: 20 writes a second come back
    tenant.clock = types.SimpleNamespace(now=lambda: 1001.0)
    assert admitted(throttle, tenant, "DELETE", "/groups/g1")[0] == 20


def test_tenant_write_quota_is_shared_by_all_applications():
    tenant = tenant_with()
    throttle = Throttle()
    for n in range(6):  # six applications, each inside its own 3,000 writes: 18,000 for the tenant
        assert admitted(throttle, tenant, "POST", "/groups", client_id="app-%d" % n)[0] == 3000
    count, refused = admitted(throttle, tenant, "POST", "/groups", client_id="app-7")
    assert count == 0
    assert refused.headers["x-ms-throttle-scope"] == "Tenant/Write/app-7/tenant-1"
    assert refused.headers["x-ms-throttle-information"] == "WriteLimitExceeded"
    assert call(throttle, tenant, "GET", "/groups", client_id="app-7") == {"x-ms-resource-unit": "1"}


def test_application_resource_unit_quota():
    tenant = tenant_with(throttle_directory_ru=10 ** 6)  # lift the pair's quota to reach the application's
    count, refused = admitted(Throttle(), tenant, "GET", "/users")
    assert count == 150000 // 2
    assert refused.headers["x-ms-throttle-scope"] == "Application/ReadWrite/app-1/tenant-1"


def test_limit_percentage_only_above_eight_tenths():
    tenant = tenant_with(throttle_directory_ru=100)
    throttle = Throttle()
    headers = [call(throttle, tenant, "GET", "/groups") for _dummy in range(100)]
    assert all("x-ms-throttle-limit-percentage" not in h for h in headers[:80])
    assert [h["x-ms-throttle-limit-percentage"] for h in headers[80:]] == ["%.2f" % (n / 100.0) for n in range(81, 101)]

"""Throttling, injected faults, latency and replication delay."""

import pytest
import requests

from tests.graph_emulator import app as app_module

from .test_directory import security_group

ENROLLMENT = "/deviceManagement/deviceEnrollmentConfigurations"


def esp(name):
    return {"@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration", "displayName": name}


def test_throttling_429_retry_after_then_advance(graph_beta, emulator, control):
    # Intune routes: Intune's sliding window (the directory routes have their own model, test_throttling_directory.py).
    # A long window, so that a slow (loaded) machine cannot let the window slide between the calls.
    control("PATCH", "settings", {"throttle": True, "throttle_requests": 3, "throttle_writes": 2, "throttle_window": 600})
    for _dummy in range(3):
        assert graph_beta.get(ENROLLMENT).status_code == 200
    throttled = graph_beta.get(ENROLLMENT)
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    assert "x-ms-throttle-scope" not in throttled.headers  # an identity-and-access header, not Intune's
    wait = int(throttled.headers["Retry-After"])
    assert 590 <= wait <= 600
    assert graph_beta.get("/deviceAppManagement/mobileApps").status_code == 200  # another workload has its own window
    control("POST", "advance", {"seconds": wait})
    assert graph_beta.get(ENROLLMENT).status_code == 200
    assert control("GET", "faults")["throttled"] == 1
    entries = control("GET", "requests")["requests"]
    assert [e for e in entries if e.get("throttled")][0]["status"] == 429


def test_throttling_write_limit(graph_beta, emulator, control):
    control("PATCH", "settings", {"throttle": True, "throttle_writes": 2})
    before = len(emulator.tenant.set("deviceEnrollmentConfigurations"))
    for name in ("a", "b"):
        assert graph_beta.post(ENROLLMENT, json=esp(name)).status_code == 201
    third = graph_beta.post(ENROLLMENT, json=esp("c"))
    assert third.status_code == 429 and "Retry-After" in third.headers
    assert len(emulator.tenant.set("deviceEnrollmentConfigurations")) == before + 2
    assert graph_beta.get(ENROLLMENT).status_code == 200  # reads still have room


def test_throttling_off_by_default(graph, control):
    control("PATCH", "settings", {"throttle_requests": 1})
    assert all(graph.get("/users").status_code == 200 for _dummy in range(3))


@pytest.mark.parametrize("kind,status,retry_after", [
    ("429", 429, "0"), ("429-no-retry-after", 429, None), ("500", 500, None), ("502", 502, None),
    ("503", 503, None), ("504", 504, None), ("503-retry-after", 503, "0"), ("504-retry-after", 504, "0"),
])
def test_scripted_status_faults(graph, emulator, control, kind, status, retry_after):
    control("POST", "faults", {"rules": [{"method": "POST", "path": "/groups", "fault": kind, "retry_after": 0}]})
    answer = graph.post("/groups", json=security_group())
    assert answer.status_code == status
    assert answer.headers.get("Retry-After") == retry_after
    assert answer.json()["error"]["innerError"]["request-id"] == answer.headers["request-id"]
    assert emulator.tenant.set("groups") == {}
    assert graph.post("/groups", json=security_group()).status_code == 201  # count 1: next one passes
    assert control("GET", "faults")["injected"] == {kind: 1}


def test_drop_before_write(graph, emulator, control):
    control("POST", "faults", {"rules": [{"method": "POST", "path": "/groups", "fault": "drop"}]})
    with pytest.raises(requests.exceptions.ConnectionError):
        graph.post("/groups", json=security_group())
    assert emulator.tenant.set("groups") == {}
    assert graph.get("/groups").status_code == 200  # a new connection works


def test_drop_after_write(graph, emulator, control):
    control("POST", "faults", {"rules": [{"method": "POST", "path": "/groups", "fault": "drop-after"}]})
    with pytest.raises(requests.exceptions.ConnectionError):
        graph.post("/groups", json=security_group("Applied"))
    found = graph.get("/groups", params={"$filter": "displayName eq 'Applied'"}).json()["value"]
    assert len(found) == 1


def test_500_after_write(graph, emulator, control):
    control("POST", "faults", {"rules": [{"method": "POST", "path": "/groups", "fault": "500-after"}]})
    answer = graph.post("/groups", json=security_group("Applied"))
    assert answer.status_code == 500
    assert [g["displayName"] for g in emulator.tenant.set("groups").values()] == ["Applied"]


def test_slow_fault_and_latency_sleep(graph, control, monkeypatch):
    slept = []
    monkeypatch.setattr(app_module.time, "sleep", slept.append)
    control("POST", "faults", {"rules": [{"path": "/users", "fault": "slow", "slow_ms": 4000}]})
    assert graph.get("/users").status_code == 200
    assert slept == [4.0]
    control("PATCH", "settings", {"latency_ms": 25})
    assert graph.get("/users").status_code == 200
    assert slept == [4.0, 0.025]


def test_random_faults_are_seeded(graph, control):
    def run():
        control("DELETE", "faults")
        control("POST", "faults", {"rate": 0.5, "seed": 7, "kinds": ["500", "503"]})
        return [graph.get("/users").status_code for _dummy in range(20)]
    first, second = run(), run()
    assert first == second
    assert {200, 500, 503} >= set(first) and 200 in first and (500 in first or 503 in first)
    counted = control("GET", "faults")["injected"]
    assert sum(counted.values()) == sum(1 for s in second if s != 200)


def test_unknown_fault_kind_is_refused(emulator):
    answer = requests.post(emulator.url + "/_emulator/faults", json={"rules": [{"fault": "explode"}]}, verify=emulator.ca_path)
    assert answer.status_code == 400


def test_replication_delay(graph, emulator, control):
    control("PATCH", "settings", {"replication_delay": 30})
    group_id = graph.post("/groups", json=security_group("Late")).json()["id"]
    assert graph.get("/groups", params={"$filter": "displayName eq 'Late'"}).json()["value"] == []
    assert graph.get("/groups/" + group_id).status_code == 200  # a GET by id finds it
    control("POST", "advance", {"seconds": 31})
    assert [g["id"] for g in graph.get("/groups").json()["value"]] == [group_id]

"""JSON batching: limits, dependsOn/424, per-request auth, throttling and logging."""

from .test_directory import security_group

JSON = {"Content-Type": "application/json"}


def test_batch_runs_each_request(graph, emulator, control):
    batch = {"requests": [
        {"id": "1", "method": "POST", "url": "/groups", "headers": JSON, "body": security_group("One")},
        {"id": "2", "method": "GET", "url": "users?$top=2"},
        {"id": "3", "method": "GET", "url": "/groups/does-not-exist"},
    ]}
    answer = graph.post("/$batch", json=batch)
    assert answer.status_code == 200
    responses = {r["id"]: r for r in answer.json()["responses"]}
    assert responses["1"]["status"] == 201 and responses["1"]["body"]["displayName"] == "One"
    assert responses["2"]["status"] == 200 and len(responses["2"]["body"]["value"]) == 2
    assert responses["3"]["status"] == 404 and responses["3"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert all("request-id" in r["headers"] for r in responses.values())
    assert [g["displayName"] for g in emulator.tenant.set("groups").values()] == ["One"]
    logged = control("GET", "requests")["requests"]
    inner = [e for e in logged if e.get("batch_request_id")]
    assert [e["path"] for e in inner] == ["/v1.0/groups", "/v1.0/users?$top=2", "/v1.0/groups/does-not-exist"]


def test_batch_depends_on_failure_gives_424(graph, emulator):
    batch = {"requests": [
        {"id": "a", "method": "POST", "url": "/groups", "headers": JSON, "body": {"displayName": "missing fields"}},
        {"id": "b", "method": "POST", "url": "/groups", "headers": JSON, "body": security_group("Two"), "dependsOn": ["a"]},
        {"id": "c", "method": "GET", "url": "/users", "dependsOn": ["b"]},
    ]}
    responses = {r["id"]: r for r in graph.post("/$batch", json=batch).json()["responses"]}
    assert responses["a"]["status"] == 400
    assert responses["b"]["status"] == 424 and responses["c"]["status"] == 424
    assert emulator.tenant.set("groups") == {}


def test_batch_limits_and_malformed(graph):
    too_many = {"requests": [{"id": str(i), "method": "GET", "url": "/users"} for i in range(21)]}
    answer = graph.post("/$batch", json=too_many)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "BadRequest"
    duplicate = {"requests": [{"id": "x", "method": "GET", "url": "/users"}, {"id": "X", "method": "GET", "url": "/users"}]}
    assert graph.post("/$batch", json=duplicate).status_code == 400
    assert graph.post("/$batch", json={"nope": []}).status_code == 400
    unknown_dep = {"requests": [{"id": "1", "method": "GET", "url": "/users", "dependsOn": ["9"]}]}
    assert graph.post("/$batch", json=unknown_dep).status_code == 400
    no_type = {"requests": [{"id": "1", "method": "POST", "url": "/groups", "body": security_group()}]}
    assert graph.post("/$batch", json=no_type).json()["responses"][0]["status"] == 400
    assert graph.post("/$batch", json={"requests": [{"id": str(i), "method": "GET", "url": "/users"} for i in range(20)]}).status_code == 200


def test_batch_inner_requests_are_throttled(graph, control):
    control("PATCH", "settings", {"throttle": True, "throttle_requests": 2})  # Intune's model: an Intune route
    batch = {"requests": [{"id": str(i), "method": "GET", "url": "/deviceAppManagement/mobileApps"} for i in range(3)]}
    responses = graph.post("/$batch", json=batch).json()["responses"]
    assert [r["status"] for r in responses] == [200, 200, 429]
    assert int(responses[2]["headers"]["Retry-After"]) >= 1


def test_batch_needs_token_and_checks_inner_permissions(emulator, make_graph, control):
    assert make_graph(token="").post("/$batch", json={"requests": [{"id": "1", "method": "GET", "url": "/users"}]}).status_code == 401
    reader = control("POST", "apps", {"roles": ["User.Read.All"]})
    client = make_graph(client_id=reader["client_id"], secret=reader["secret"])
    batch = {"requests": [{"id": "1", "method": "GET", "url": "/users"}, {"id": "2", "method": "GET", "url": "/groups"}]}
    statuses = [r["status"] for r in client.post("/$batch", json=batch).json()["responses"]]
    assert statuses == [200, 403]


def test_realistic_refuses_the_whole_batch_for_a_write_without_body_or_content_type(graph, emulator, control):
    """msgraph-sdk-dotnet issue 2628 and Softeria/ms-365-mcp-server issue 677 / PR 683: a batch-level 400, nothing runs."""
    control("POST", "reset", {"profile": "realistic", "throttle": False})
    create = {"id": "1", "method": "POST", "url": "/groups", "headers": JSON, "body": security_group("Never")}
    bodyless = {"requests": [create, {"id": "2", "method": "POST", "url": "/groups"}]}
    answer = graph.post("/$batch", json=bodyless)
    assert answer.status_code == 400
    assert answer.json()["error"] == dict(answer.json()["error"], code="BadRequest",
                                          message="Write request id : 2 does not contain Content-Type header or body.")
    untyped = {"requests": [create, {"id": "x", "method": "PATCH", "url": "/groups/abc", "body": {"description": "d"}}]}
    answer = graph.post("/$batch", json=untyped)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Write request with id 'x' does not contain a Content-Type header."
    assert emulator.tenant.set("groups") == {}
    logged = control("GET", "requests")["requests"]
    assert [e["status"] for e in logged if e["path"] == "/v1.0/$batch"] == [400, 400]
    assert not [e for e in logged if e.get("batch_request_id")]


def test_realistic_runs_a_bodyless_delete_and_an_empty_body_with_content_type(graph, emulator, control):
    """json-batching.md's own example: a DELETE with neither, a POST with body {} and Content-Type."""
    control("POST", "reset", {"profile": "realistic", "throttle": False})
    group = graph.post("/groups", json=security_group("Doomed")).json()
    batch = {"requests": [{"id": "1", "method": "DELETE", "url": "/groups/" + group["id"]},
                          {"id": "2", "method": "POST", "url": "/groups", "headers": JSON, "body": {}}]}
    responses = {r["id"]: r["status"] for r in graph.post("/$batch", json=batch).json()["responses"]}
    assert responses == {"1": 204, "2": 400}  # the empty group body reaches the handler, which refuses it
    assert emulator.tenant.set("groups") == {}


def test_best_case_fails_only_the_item_and_runs_a_bodyless_write(graph, emulator):
    batch = {"requests": [{"id": "1", "method": "POST", "url": "/groups", "body": security_group("No type")},
                          {"id": "2", "method": "POST", "url": "/groups", "headers": JSON, "body": security_group("Kept")}]}
    responses = {r["id"]: r["status"] for r in graph.post("/$batch", json=batch).json()["responses"]}
    assert responses == {"1": 400, "2": 201}
    assert [g["displayName"] for g in emulator.tenant.set("groups").values()] == ["Kept"]


def test_realistic_runs_and_answers_in_any_order_but_after_dependencies(graph, emulator, control):
    """json-batching.md: processed "in the most efficient order", responses "in a different order"; dependsOn holds."""
    control("POST", "reset", {"profile": "realistic", "throttle": False, "seed": 3})
    batch = {"requests": [{"id": str(i), "method": "POST", "url": "/groups", "headers": JSON,
                           "body": security_group("G%02d" % i)} for i in range(8)]}
    batch["requests"] += [{"id": "after", "method": "GET", "url": "/users?$top=1", "dependsOn": ["0", "7"]}]
    answer = graph.post("/$batch", json=batch).json()["responses"]
    assert sorted(r["id"] for r in answer) == sorted(r["id"] for r in batch["requests"])
    assert [r["id"] for r in answer] != [r["id"] for r in batch["requests"]]
    ran = [e for e in control("GET", "requests")["requests"] if e.get("batch_request_id")]
    created = [e["response_body"]["displayName"] for e in ran if e["method"] == "POST"]
    assert sorted(created) == ["G%02d" % i for i in range(8)] and created != sorted(created)
    order = [e["response_body"].get("displayName", e["path"]) for e in ran]
    assert order.index("/v1.0/users?$top=1") > max(order.index("G00"), order.index("G07"))


def test_a_depends_on_cycle_is_a_malformed_batch(graph):
    cycle = {"requests": [{"id": "a", "method": "GET", "url": "/users", "dependsOn": ["b"]},
                          {"id": "b", "method": "GET", "url": "/users", "dependsOn": ["a"]}]}
    answer = graph.post("/$batch", json=cycle)
    assert answer.status_code == 400 and "cycle" in answer.json()["error"]["message"]

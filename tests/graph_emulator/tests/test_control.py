"""Control API, state save/load, the CLI, and the request log (redaction and Microsoft's schema)."""

import json
import os
import signal
import subprocess
import sys

import requests

from tests.graph_emulator import Emulator

from .conftest import SCOPE, GraphClient
from .test_directory import device_object, security_group

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CHECKER = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "graph_schema", "check.py")


def test_state_reset_seed_advance(graph, emulator, control):
    graph.post("/groups", json=security_group())
    state = control("GET", "state")
    assert state["tenant_id"] == emulator.tenant_id and len(state["sets"]["groups"]) == 1
    assert "apps" not in state and emulator.client_secret not in json.dumps(state)
    control("POST", "reset", {"settings": {"page_size": 7}})
    assert control("GET", "state")["sets"].get("groups", {}) == {}
    assert control("GET", "settings")["page_size"] == 7
    added = control("POST", "seed", {"sets": {"users": [{"userPrincipalName": "new@contoso.onmicrosoft.com",
                                                         "displayName": "New"}]}})
    new_id = added["sets"]["users"][0]
    assert graph.get("/users/new@contoso.onmicrosoft.com").json()["id"] == new_id
    before = emulator.tenant.clock.now()
    moved = control("POST", "advance", {"seconds": 600})
    assert moved["offset"] == 600 and emulator.tenant.clock.now() - before >= 600


def test_requests_since_and_unknown_control_path(graph, control, emulator):
    graph.get("/users")
    last = control("GET", "requests")["last"]
    graph.get("/groups")
    newer = control("GET", "requests", params={"since": last})["requests"]
    assert [e["path"] for e in newer] == ["/v1.0/groups"]
    assert requests.get(emulator.url + "/_emulator/nope", verify=emulator.ca_path).status_code == 404


def test_state_file_save_and_load(tmp_path):
    path = str(tmp_path / "tenant.json")
    with Emulator(state=path) as first:
        client = GraphClient(first)
        group_id = client.post("/groups", json=security_group("Kept")).json()["id"]
        tenant_id, client_id, secret = first.tenant_id, first.client_id, first.client_secret
    saved = json.load(open(path))
    assert group_id in saved["sets"]["groups"]
    assert [a["client_id"] for a in saved["apps"]] == [client_id]
    with Emulator(state=path) as second:
        assert (second.tenant_id, second.client_id, second.client_secret) == (tenant_id, client_id, secret)
        assert GraphClient(second).get("/groups/" + group_id).json()["displayName"] == "Kept"
    assert len(json.load(open(path))["apps"]) == 1


def test_cli_ready_line_and_sigterm_saves_state(tmp_path):
    state = str(tmp_path / "state.json")
    proc = subprocess.Popen([sys.executable, "-m", "tests.graph_emulator", "--state", state, "--page-size", "4",
                             "--import-delay", "2", "--throttle", "--replication-delay", "3", "--latency-ms", "1",
                             "--fault-rate", "0.25", "--seed", "5"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(proc.stdout.readline())
        assert {"url", "ca_path", "tenant_id", "client_id", "client_secret", "cert_client_id", "cert_path"} <= set(ready)
        assert ready["url"].startswith("https://127.0.0.1:")
        settings = requests.get(ready["url"] + "/_emulator/settings", verify=ready["ca_path"]).json()
        assert settings["page_size"] == 4 and settings["import_delay"] == 2 and settings["throttle"] is True
        assert settings["replication_delay"] == 3 and settings["latency_ms"] == 1
        faults = requests.get(ready["url"] + "/_emulator/faults", verify=ready["ca_path"]).json()
        assert faults["rate"] == 0.25 and faults["seed"] == 5
        requests.post(ready["url"] + "/_emulator/faults", json={"rate": 0}, verify=ready["ca_path"])
        token = requests.post("%s/%s/oauth2/v2.0/token" % (ready["url"], ready["tenant_id"]), verify=ready["ca_path"],
                              data={"grant_type": "client_credentials", "client_id": ready["client_id"],
                                    "client_secret": ready["client_secret"], "scope": SCOPE}).json()["access_token"]
        assert requests.get(ready["url"] + "/beta/users", headers={"Authorization": "Bearer " + token},
                            verify=ready["ca_path"]).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    assert json.load(open(state))["tenant_id"] == ready["tenant_id"]


def test_request_log_redacts_and_matches_published_schema(tmp_path):
    log = str(tmp_path / "requests.jsonl")
    with Emulator(request_log=log) as emu:
        v1, beta = GraphClient(emu, "v1.0"), GraphClient(emu, "beta")
        emu.tenant.settings["page_size"] = 2
        device = device_object(emu.tenant, "AP-LOG", group_tag="Sales")
        for client in (v1, beta):
            client.get("/users")
            user = client.get("/users").json()["value"][0]
            client.get("/users/" + user["id"])
            client.get("/users", params={"$filter": "userPrincipalName eq '%s'" % user["userPrincipalName"]})
            group = client.post("/groups", json=security_group(groupTypes=["DynamicMembership"], membershipRuleProcessingState="On",
                                                               membershipRule='(device.devicePhysicalIds -any (_ -eq "[OrderId]:Sales"))')).json()
            client.get("/groups/" + group["id"])
            client.get_all("/groups")
            client.patch("/groups/" + group["id"], json={"description": "tagged devices"})
            client.get("/groups/%s/members" % group["id"])
            plain = client.post("/groups", json=security_group("Plain")).json()
            client.post("/groups/%s/members/$ref" % plain["id"],
                        json={"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + user["id"]})
            client.delete("/groups/%s/members/%s/$ref" % (plain["id"], user["id"]))
            client.delete("/groups/" + plain["id"])
            client.get("/devices")
            client.get("/devices/" + device["id"])
            client.get("/groups/nope")
            client.post("/$batch", json={"requests": [{"id": "1", "method": "GET", "url": "/users?$top=1"}]})
        requests.post("%s/%s/oauth2/v2.0/token" % (emu.url, emu.tenant_id), verify=emu.ca_path,
                      data={"grant_type": "client_credentials", "client_id": emu.client_id, "client_secret": "wrong",
                            "scope": SCOPE})
        secret, token = emu.client_secret, v1.token
    text = open(log).read()
    assert secret not in text and token not in text and "wrong" not in text
    entries = [json.loads(line) for line in text.splitlines()]
    tokens = [e for e in entries if "/oauth2/" in e["path"]]
    assert tokens and all(e["request_body"]["client_secret"] == "***" for e in tokens)
    assert all(set(e) >= {"method", "path", "status", "request_body", "response_body", "request_id", "ts"} for e in entries)
    # check.py knows the Graph paths only: token requests and the outer $batch envelope are left out
    # (its README: "the caller expands batch items first" - the inner requests are logged one by one).
    graph_only = tmp_path / "graph.jsonl"
    graph_only.write_text("".join(json.dumps(e) + "\n" for e in entries
                                  if e["path"].startswith(("/v1.0/", "/beta/")) and "/$batch" not in e["path"]))
    result = subprocess.run([sys.executable, CHECKER, "--log", str(graph_only)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_redaction_rules():
    from tests.graph_emulator.requestlog import redact
    entry = {"request_body": {"client_secret": "s3cret", "productKey": "ABCDE-FGHIJ-KLMNO", "nested": [{"password": "p"}]},
             "response_body": {"access_token": "tok", "displayName": "kept"}}
    assert redact(entry) == {"request_body": {"client_secret": "***", "productKey": "************KLMNO",
                                              "nested": [{"password": "***"}]},
                             "response_body": {"access_token": "***", "displayName": "kept"}}
    assert entry["request_body"]["client_secret"] == "s3cret"  # the answer itself is untouched


def test_invalid_json_body_is_400(graph, emulator):
    answer = graph.request("POST", "/groups", data=b"{not json", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "BadRequest"
    assert emulator.tenant.set("groups") == {}

"""Dynamic membership processed after a delay (realistic profile), and membershipRuleProcessingStatus."""

import pytest

from tests.graph_emulator import directory, profiles

from .intune_helpers import Client
from .test_directory import AUTOPILOT_RULE, device_object, security_group

TAG_RULE = '(device.devicePhysicalIds -any (_ -eq "[OrderId]:BER"))'
STATUS = {"$select": "id,membershipRuleProcessingStatus"}


def dynamic(name, rule=AUTOPILOT_RULE):
    return security_group(name, groupTypes=["DynamicMembership"], membershipRule=rule, membershipRuleProcessingState="On")


def member_names(graph, group_id):
    return sorted(m["displayName"] for m in graph.get("/groups/%s/members" % group_id).json()["value"])


@pytest.fixture
def realistic(emulator, control):
    """The realistic profile at time scale 60: 300 service seconds of processing are 5 seconds of the clock."""
    control("POST", "reset", {"profile": "realistic", "throttle": False, "replication_delay": 0})
    return emulator.tenant


def test_a_new_group_is_empty_until_its_first_processing_run_ends(graph, graph_beta, realistic):
    device_object(realistic, "AP-1")
    group = graph.post("/groups", json=dynamic("All Autopilot")).json()
    created = realistic.clock.now()
    status = graph_beta.get("/groups/" + group["id"], params=STATUS).json()["membershipRuleProcessingStatus"]
    assert status == {"status": "NotStarted", "lastMembershipUpdated": None, "errorMessage": None}
    assert member_names(graph, group["id"]) == []
    realistic.clock.advance(3)
    assert graph_beta.get("/groups/" + group["id"], params=STATUS).json()["membershipRuleProcessingStatus"]["status"] == "Running"
    assert member_names(graph, group["id"]) == []
    realistic.clock.advance(2.1)
    status = graph_beta.get("/groups/" + group["id"], params=STATUS).json()["membershipRuleProcessingStatus"]
    ended = realistic.get("groups", group["id"])["_processed_at"]
    assert status["status"] == "Succeeded" and status["lastMembershipUpdated"] == realistic.clock.iso(ended)
    assert abs(ended - created - 5.0) < 0.5
    assert member_names(graph, group["id"]) == ["AP-1"]


def test_a_new_or_changed_device_reaches_a_processed_group_after_the_update_delay(graph, graph_beta, realistic):
    berlin = graph.post("/groups", json=dynamic("Berlin", TAG_RULE)).json()
    realistic.clock.advance(6)
    tagged = device_object(realistic, "AP-BER", group_tag="BER")
    directory.object_changed(realistic, tagged, None)  # as the Autopilot import creates it
    assert member_names(graph, berlin["id"]) == []
    realistic.clock.advance(5.1)
    assert member_names(graph, berlin["id"]) == ["AP-BER"]
    updated = graph_beta.get("/groups/" + berlin["id"], params=STATUS).json()["membershipRuleProcessingStatus"]
    assert updated["lastMembershipUpdated"] == realistic.clock.iso(tagged["_changed_at"] + 5)
    before = directory.public(tagged)
    tagged["physicalIds"] = [p for p in tagged["physicalIds"] if not p.startswith("[OrderId]")] + ["[OrderId]:LYS"]
    directory.object_changed(realistic, tagged, before)
    assert member_names(graph, berlin["id"]) == ["AP-BER"]  # the group still sees the old tag
    realistic.clock.advance(5.1)
    assert member_names(graph, berlin["id"]) == []


def test_a_rule_change_shows_the_old_members_until_the_new_run_ends(graph, graph_beta, realistic):
    device_object(realistic, "AP-BER", group_tag="BER")
    device_object(realistic, "AP-LYS", group_tag="LYS")
    group = graph.post("/groups", json=dynamic("Site", TAG_RULE)).json()
    realistic.clock.advance(6)
    assert member_names(graph, group["id"]) == ["AP-BER"]
    first_run_end = graph_beta.get("/groups/" + group["id"], params=STATUS).json()["membershipRuleProcessingStatus"]
    graph.patch("/groups/" + group["id"], json={"membershipRule": TAG_RULE.replace("BER", "LYS")})
    status = graph_beta.get("/groups/" + group["id"], params=STATUS).json()["membershipRuleProcessingStatus"]
    assert status["status"] == "NotStarted" and status["lastMembershipUpdated"] == first_run_end["lastMembershipUpdated"]
    assert member_names(graph, group["id"]) == ["AP-BER"]
    realistic.clock.advance(5.1)
    assert member_names(graph, group["id"]) == ["AP-LYS"]


def test_the_status_is_beta_select_only_and_null_when_paused_or_not_dynamic(graph, graph_beta, emulator):
    """Best case: processed at once (Succeeded); the property is returned only on $select, in beta only."""
    dyn = graph.post("/groups", json=dynamic("Dyn")).json()
    plain = graph.post("/groups", json=security_group("Plain")).json()
    assert "membershipRuleProcessingStatus" not in graph_beta.get("/groups/" + dyn["id"]).json()
    assert "membershipRuleProcessingStatus" not in graph.get("/groups/" + dyn["id"], params=STATUS).json()
    listed = {g["id"]: g["membershipRuleProcessingStatus"] for g in graph_beta.get("/groups", params=STATUS).json()["value"]}
    assert listed[dyn["id"]]["status"] == "Succeeded" and listed[plain["id"]] is None
    graph.patch("/groups/" + dyn["id"], json={"membershipRuleProcessingState": "Paused"})
    assert graph_beta.get("/groups/" + dyn["id"], params=STATUS).json()["membershipRuleProcessingStatus"] is None


def test_best_case_evaluates_rules_on_every_read(graph, emulator):
    group = graph.post("/groups", json=dynamic("Instant")).json()
    device_object(emulator.tenant, "AP-NOW")
    assert member_names(graph, group["id"]) == ["AP-NOW"]


def test_the_status_matches_the_published_schema(tmp_path):
    client = Client(profiles.resolve({"profile": "realistic"}))
    group_id = client.group("Schema", rule=AUTOPILOT_RULE)
    for seconds in (0, 3, 3):
        client.advance(seconds)
        answer = client.get("/groups/" + group_id, query=STATUS)
        assert answer.status == 200 and answer.body["membershipRuleProcessingStatus"]["status"]
    client.log = [e for e in client.log if e["path"].startswith("/beta/")]
    code, output = client.schema_check(tmp_path)
    assert code == 0, output

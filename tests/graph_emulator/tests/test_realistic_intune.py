"""The realistic profile's Intune behaviours: new groups unknown to assignment for a while, profile assignment states."""

import pytest

from tests.graph_emulator import profiles
from tests.graph_emulator.tests.intune_helpers import Client
from tests.graph_emulator.tests.test_autopilot import AAD, group_target
from tests.graph_emulator.tests.test_enrollment import ESP_TYPE, target

ESPS = "/deviceManagement/deviceEnrollmentConfigurations"
PROFILES = "/deviceManagement/windowsAutopilotDeploymentProfiles"


@pytest.fixture
def client():
    """A realistic tenant (time scale 60) without throttling."""
    return Client(profiles.resolve({"profile": "realistic", "throttle": False}))


def test_an_assignment_to_a_group_created_moments_ago_is_refused_until_intune_knows_it(client):
    """300 service seconds are five seconds of the clock; both assignment routes, include and exclusion."""
    esp = client.post(ESPS, {"@odata.type": ESP_TYPE, "displayName": "ESP"}).body
    profile = client.post(PROFILES, {"@odata.type": AAD, "displayName": "Profile"}).body
    new = client.group("Autopilot devices")
    calls = (
        (ESPS + "/%s/assign" % esp["id"], {"enrollmentConfigurationAssignments": [target("groupAssignmentTarget", new)]}),
        (ESPS + "/%s/assign" % esp["id"], {"enrollmentConfigurationAssignments": [target("exclusionGroupAssignmentTarget", new)]}),
        (PROFILES + "/%s/assignments" % profile["id"], group_target(new)),
    )
    for path, body in calls:
        refused = client.post(path, body)
        assert refused.status == 400 and refused.error_code == "BadRequest"
        assert refused.error_text.startswith("An error has occurred - Operation ID")
    assert client.tenant.get(PROFILES.rsplit("/", 1)[1], profile["id"])["_assignments"] == {}
    client.advance(4)
    assert client.post(*calls[2]).status == 400
    client.advance(1.01)
    assert [client.post(path, body).status for path, body in calls] == [204, 204, 201]


def test_groups_planted_through_the_control_api_and_best_case_groups_are_known_at_once(client):
    seeded = client.tenant.add("groups", {"id": "seeded-group", "displayName": "Old group", "groupTypes": []})
    profile = client.post(PROFILES, {"@odata.type": AAD, "displayName": "Profile"}).body
    assert client.post(PROFILES + "/%s/assignments" % profile["id"], group_target(seeded["id"])).status == 201
    best = Client()
    other = best.post(PROFILES, {"@odata.type": AAD, "displayName": "Profile"}).body
    assert best.post(PROFILES + "/%s/assignments" % other["id"], group_target(best.group("New"))).status == 201


# --- profile assignment states ---------------------------------------------------------------------------------

DEVICES = "/deviceManagement/windowsAutopilotDeviceIdentities"
TAG_RULE = '(device.devicePhysicalIds -any (_ -eq "[OrderId]:%s"))'


def timeline(client, device_id, seconds, step=0.5):
    """(clock offset, status, date, deploymentProfile id) every ``step`` seconds, when the status changes."""
    seen, start = [], client.tenant.clock.now()
    while client.tenant.clock.now() - start < seconds:
        device = client.get(DEVICES + "/" + device_id).body
        held = client.get(DEVICES + "/%s/deploymentProfile" % device_id)
        row = (device["deploymentProfileAssignmentStatus"], device["deploymentProfileAssignedDateTime"],
               held.body["id"] if held.status == 200 else None)
        if not seen or seen[-1][1:] != row:
            seen.append((round(client.tenant.clock.now() - start, 1),) + row)
        client.advance(step)
    return seen


def registered(client, serial, tag, wait=1.51):
    """Import one device with ``tag`` and return its Autopilot id once registered (import 90 s = 1.5 s)."""
    client.post("/deviceManagement/importedWindowsAutopilotDeviceIdentities/import", {"importedWindowsAutopilotDeviceIdentities": [
        {"serialNumber": serial, "hardwareIdentifier": "aGFzaC0x", "groupTag": tag}]})
    client.advance(wait)
    client.get(DEVICES)
    [device] = [d for d in client.tenant.set("windowsAutopilotDeviceIdentities").values() if d["serialNumber"] == serial]
    return device["id"]


def assigned_profile(client, name, group_id):
    profile = client.post(PROFILES, {"@odata.type": AAD, "displayName": name}).body
    client.advance(5.01)  # the group is known to Intune after 300 service seconds
    assert client.post(PROFILES + "/%s/assignments" % profile["id"], group_target(group_id)).status == 201
    return profile["id"]


@pytest.fixture
def tagged(client):
    """Dynamic groups for tags BER and LYS, processed, each assigned its own profile; one device tagged BER."""
    client.tenant.settings["devices_listed_after_sync"] = False  # listing is not what these tests look at
    berlin, lyon = client.group("Berlin", rule=TAG_RULE % "BER"), client.group("Lyon", rule=TAG_RULE % "LYS")
    profiles_ = {"BER": assigned_profile(client, "Berlin profile", berlin), "LYS": assigned_profile(client, "Lyon profile", lyon)}
    client.advance(5)  # both groups processed
    return profiles_, registered(client, "AP-STATES", "BER")


def test_a_new_device_is_a_member_first_then_pending_then_assigned_without_and_with_sync(client, tagged, tmp_path):
    """membership 300 s, pending 600 s, unknown sync state 300 s: 5, 10 and 5 seconds of the clock."""
    profiles_, device_id = tagged
    rows = timeline(client, device_id, 22)
    assert [r[1] for r in rows] == ["notAssigned", "pending", "assignedUnkownSyncState", "assignedInSync"]
    pending_from, assigned_from, in_sync_from = rows[1][0], rows[2][0], rows[3][0]
    assert 4 <= pending_from <= 6 and 8.5 <= assigned_from - pending_from <= 10.5  # dated to the previous tick
    assert 4.5 <= in_sync_from - assigned_from <= 5.5
    assert rows[1][2] == "0001-01-01T00:00:00Z" and rows[2][2] == rows[3][2] != rows[1][2]
    assert rows[2][3] is None and rows[3][3] == profiles_["BER"]  # deploymentProfile: 404 until in sync
    code, output = client.schema_check(tmp_path)
    assert code == 0, output


def test_a_device_moved_to_another_profile_is_out_of_sync_and_keeps_the_old_one_meanwhile(client, tagged):
    profiles_, device_id = tagged
    client.advance(25)
    assert client.get(DEVICES + "/" + device_id).body["deploymentProfileAssignmentStatus"] == "assignedInSync"
    moved = client.post(DEVICES + "/%s/updateDeviceProperties" % device_id, {"groupTag": "LYS"})
    assert moved.status == 204
    rows = timeline(client, device_id, 22)
    assert [r[1] for r in rows] == ["assignedInSync", "pending", "assignedOutOfSync", "assignedInSync"]
    assert [r[3] for r in rows] == [profiles_["BER"]] * 3 + [profiles_["LYS"]]
    assert client.get(DEVICES + "/%s/intendedDeploymentProfile" % device_id).body["id"] == profiles_["LYS"]


# --- deletion ----------------------------------------------------------------------------------------------------

def test_a_deleted_device_stays_listed_for_the_deletion_delay_and_a_second_delete_changes_nothing(client):
    """180 service seconds are 3 seconds of the clock."""
    client.tenant.settings["devices_listed_after_sync"] = False
    device_id = registered(client, "AP-GONE", "")
    entra_id = client.tenant.get("windowsAutopilotDeviceIdentities", device_id)["_entra_id"]
    assert client.delete(DEVICES + "/" + device_id).status == 204
    listed = client.get(DEVICES).body["value"]
    assert [d["id"] for d in listed] == [device_id] and client.get(DEVICES + "/" + device_id).status == 200
    assert client.tenant.get("devices", entra_id) is not None
    client.advance(2)
    assert client.delete(DEVICES + "/" + device_id).status == 204
    client.advance(1.01)
    assert client.get(DEVICES).body["value"] == [] and client.get(DEVICES + "/" + device_id).status == 404
    assert client.tenant.get("devices", entra_id) is None
    assert client.delete(DEVICES + "/" + device_id).status == 404


def test_a_device_with_an_assigned_user_is_not_deleted_until_the_user_is_unassigned(client):
    client.tenant.settings["devices_listed_after_sync"] = False
    device_id = registered(client, "AP-USER", "")
    upn = client.get("/users").body["value"][0]["userPrincipalName"]
    body = {"userPrincipalName": upn, "addressableUserName": "A"}
    assert client.post(DEVICES + "/%s/assignUserToDevice" % device_id, body).status == 204
    refused = client.delete(DEVICES + "/" + device_id)
    assert refused.status == 400 and refused.error_text.startswith("An error has occurred")
    assert "_deleting_until" not in client.tenant.get("windowsAutopilotDeviceIdentities", device_id)
    assert client.post(DEVICES + "/%s/unassignUserFromDevice" % device_id).status == 204
    assert client.delete(DEVICES + "/" + device_id).status == 204
    client.advance(3.01)
    assert client.get(DEVICES + "/" + device_id).status == 404


def test_best_case_deletes_at_once_even_with_a_user():
    best = Client({"import_delay": 5})
    device_id = registered(best, "AP-NOW", "", wait=5.01)
    upn = best.get("/users").body["value"][0]["userPrincipalName"]
    best.post(DEVICES + "/%s/assignUserToDevice" % device_id, {"userPrincipalName": upn, "addressableUserName": ""})
    assert best.delete(DEVICES + "/" + device_id).status == 204
    assert best.get(DEVICES + "/" + device_id).status == 404


# --- the import answer -------------------------------------------------------------------------------------------

def test_the_import_answer_has_the_shape_of_the_one_real_answer_on_record(client):
    """MSEndpointMgr/Intune issue 71: productKey and importId = the record id, hardwareIdentifier empty."""
    sent = {"serialNumber": "5P9KML3", "hardwareIdentifier": "aGFzaC0x", "productKey": "", "importId": "run-1"}
    [answer] = client.post("/deviceManagement/importedWindowsAutopilotDeviceIdentities/import",
                           {"importedWindowsAutopilotDeviceIdentities": [sent]}).body["value"]
    single = client.post("/deviceManagement/importedWindowsAutopilotDeviceIdentities", dict(sent, serialNumber="SINGLE")).body
    for record in (answer, single):
        assert record["productKey"] == record["importId"] == record["id"] and record["hardwareIdentifier"] is None
        assert record["state"]["deviceImportStatus"] == "unknown" and record["groupTag"] == ""
    stored = client.get("/deviceManagement/importedWindowsAutopilotDeviceIdentities/" + answer["id"]).body
    assert stored["hardwareIdentifier"] == "aGFzaC0x" and stored["productKey"] == ""
    client.advance(1.51)
    state = client.get("/deviceManagement/importedWindowsAutopilotDeviceIdentities/" + answer["id"]).body["state"]
    assert state["deviceImportStatus"] == "complete"  # the hash sent, not the answer, decided the import

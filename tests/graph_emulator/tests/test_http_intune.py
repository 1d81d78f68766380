"""The Intune resources over real HTTPS with a real token: the documented sequence end to end.

Uses the framework fixtures (conftest.py): ``graph_beta`` / ``graph`` clients, ``control`` for the control API and
``emulator.tenant`` to check the emulator's state independently of the answers.
"""

import base64
import json
import subprocess
import sys

from tests.graph_emulator.tests.intune_helpers import CHECKER

ESP_TYPE = "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration"
AAD = "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile"


def hw(serial):
    return base64.b64encode(("hw-" + serial).encode()).decode()


def test_user_driven_join_sequence(emulator, graph, graph_beta, control, tmp_path):
    control("PATCH", "settings", {"import_delay": 5, "profile_assignment_delay": 60})
    tenant = emulator.tenant

    # 1. ESP: create, assign to the device group, priority
    group = graph.post("/groups", json={"displayName": "Autopilot Paris", "mailEnabled": False,
                                        "mailNickname": "autopilotparis", "securityEnabled": True,
                                        "groupTypes": ["DynamicMembership"], "membershipRuleProcessingState": "On",
                                        "membershipRule": '(device.devicePhysicalIds -any (_ -eq "[OrderID]:Paris"))'})
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    esp = graph_beta.post("/deviceManagement/deviceEnrollmentConfigurations",
                          json={"@odata.type": ESP_TYPE, "displayName": "Paris ESP", "showInstallationProgress": True})
    assert esp.status_code == 201, esp.text
    esp_id = esp.json()["id"]
    assign = graph_beta.post("/deviceManagement/deviceEnrollmentConfigurations/%s/assign" % esp_id, json={
        "enrollmentConfigurationAssignments": [{"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget",
                                                           "groupId": group_id}}]})
    assert assign.status_code == 204 and assign.content == b""
    assert [a["target"]["groupId"] for a in tenant.get("deviceEnrollmentConfigurations", esp_id)["_assignments"]] == [group_id]

    # 2. profile and its group assignment
    profile = graph_beta.post("/deviceManagement/windowsAutopilotDeploymentProfiles", json={
        "@odata.type": AAD, "displayName": "User driven", "outOfBoxExperienceSetting": {
            "privacySettingsHidden": True, "eulaHidden": True, "userType": "standard", "deviceUsageType": "singleUser",
            "keyboardSelectionPageSkipped": True, "escapeLinkHidden": True}})
    assert profile.status_code == 201, profile.text
    profile_id = profile.json()["id"]
    assignment = graph_beta.post("/deviceManagement/windowsAutopilotDeploymentProfiles/%s/assignments" % profile_id,
                                 json={"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": group_id}})
    assert assignment.status_code == 201 and assignment.json()["id"] == "%s_%s_0" % (profile_id, group_id)

    # 3. import: one good device, one registered to another tenant
    control("POST", "seed", {"sets": {"foreignAutopilotDevices": [{"serialNumber": "FOREIGN-1"}]}})
    answer = graph.post("/deviceManagement/importedWindowsAutopilotDeviceIdentities/import", json={
        "importedWindowsAutopilotDeviceIdentities": [
            {"serialNumber": "PAR-001", "hardwareIdentifier": hw("PAR-001"), "groupTag": "Paris"},
            {"serialNumber": "FOREIGN-1", "hardwareIdentifier": hw("FOREIGN-1"), "groupTag": "Paris"}]})
    assert answer.status_code == 200, answer.text
    records = answer.json()["value"]
    assert [r["state"]["deviceImportStatus"] for r in records] == ["unknown", "unknown"]
    control("POST", "advance", {"seconds": 5})
    states = [graph.get("/deviceManagement/importedWindowsAutopilotDeviceIdentities/" + r["id"]).json()["state"]
              for r in records]
    assert [(s["deviceImportStatus"], s["deviceErrorCode"]) for s in states] == [("complete", 0), ("error", 808)]

    # 4. the device is in the group through its group tag; the profile becomes assigned
    found = graph_beta.get("/deviceManagement/windowsAutopilotDeviceIdentities",
                           params={"$filter": "contains(serialNumber,'PAR-001')"}).json()["value"]
    assert len(found) == 1 and found[0]["deploymentProfileAssignmentStatus"] == "pending"
    device_id = found[0]["id"]
    members = graph.get("/groups/%s/members" % group_id).json()["value"]
    assert [m["id"] for m in members] == [tenant.get("windowsAutopilotDeviceIdentities", device_id)["_entra_id"]]
    control("POST", "advance", {"seconds": 60})
    device = graph_beta.get("/deviceManagement/windowsAutopilotDeviceIdentities/" + device_id).json()
    assert device["deploymentProfileAssignmentStatus"] == "assignedInSync"
    assert graph_beta.get("/deviceManagement/windowsAutopilotDeviceIdentities/%s/deploymentProfile" % device_id).json()["id"] == profile_id

    # 5. user, sync
    upn = next(iter(tenant.set("users").values()))["userPrincipalName"]
    assigned = graph.post("/deviceManagement/windowsAutopilotDeviceIdentities/%s/assignUserToDevice" % device_id,
                          json={"userPrincipalName": upn, "addressableUserName": "Welcome"})
    assert assigned.status_code == 204
    assert tenant.get("windowsAutopilotDeviceIdentities", device_id)["userPrincipalName"] == upn
    assert graph_beta.post("/deviceManagement/windowsAutopilotSettings/sync").status_code == 204
    busy = graph_beta.post("/deviceManagement/windowsAutopilotSettings/sync")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "Conflict"
    assert "request-id" in {k.lower() for k in busy.headers}
    control("POST", "advance", {"seconds": 30})
    throttled = graph_beta.post("/deviceManagement/windowsAutopilotSettings/sync")
    assert throttled.status_code == 429 and "Retry-After" not in throttled.headers

    # 6. profile delete refused while assigned
    refused = graph_beta.delete("/deviceManagement/windowsAutopilotDeploymentProfiles/" + profile_id)
    assert refused.status_code == 400
    assert "unassign all groups" in json.loads(refused.json()["error"]["message"])["Message"]

    log = tmp_path / "log.jsonl"
    entries = control("GET", "requests")["requests"]
    with open(log, "w") as handle:
        for entry in entries:
            if "/deviceManagement/" in entry["path"] or "/deviceAppManagement/" in entry["path"]:
                handle.write(json.dumps(entry) + "\n")
    done = subprocess.run([sys.executable, CHECKER, "--log", str(log)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_permissions_are_enforced(emulator, make_graph, control):
    reader = control("POST", "apps", {"display_name": "reader", "roles": ["DeviceManagementServiceConfig.Read.All"]})
    client = make_graph("beta", client_id=reader["client_id"], secret=reader["secret"])
    assert client.get("/deviceManagement/deviceEnrollmentConfigurations").status_code == 200
    denied = client.post("/deviceManagement/deviceEnrollmentConfigurations",
                         json={"@odata.type": ESP_TYPE, "displayName": "nope"})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "Authorization_RequestDenied"
    assert client.get("/deviceAppManagement/mobileApps").status_code == 403
    assert not [c for c in emulator.tenant.set("deviceEnrollmentConfigurations").values() if c["displayName"] == "nope"]


def test_state_survives_save_and_load(emulator, graph, graph_beta, control, tmp_path):
    control("PATCH", "settings", {"import_delay": 5})
    graph.post("/deviceManagement/importedWindowsAutopilotDeviceIdentities/import", json={
        "importedWindowsAutopilotDeviceIdentities": [{"serialNumber": "SAVE-1", "hardwareIdentifier": hw("SAVE-1")}]})
    path = str(tmp_path / "state.json")
    control("POST", "save", {"path": path})
    control("POST", "load", {"path": path})
    control("POST", "advance", {"seconds": 5})
    devices = graph.get("/deviceManagement/windowsAutopilotDeviceIdentities").json()["value"]
    assert [d["serialNumber"] for d in devices] == ["SAVE-1"]

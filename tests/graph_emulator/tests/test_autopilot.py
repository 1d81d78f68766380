"""Autopilot deployment profiles, their assignments, and windowsAutopilotSettings/sync of the emulator."""

import json

import pytest

from tests.graph_emulator.tests.intune_helpers import Client

BASE = "/deviceManagement/windowsAutopilotDeploymentProfiles"
AAD = "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile"
AD = "#microsoft.graph.activeDirectoryWindowsAutopilotDeploymentProfile"


@pytest.fixture
def client():
    return Client()


def make_profile(client, name="User driven Entra join", **props):
    body = {"@odata.type": AAD, "displayName": name}
    body.update(props)
    result = client.post(BASE, body)
    assert result.status == 201, result
    return result.body


def stored(client, profile_id):
    return client.tenant.get("windowsAutopilotDeploymentProfiles", profile_id)


def test_create_defaults_and_both_property_generations(client):
    profile = make_profile(client)
    assert profile["@odata.type"] == AAD
    assert profile["locale"] == profile["language"] == "os-default"
    assert profile["hardwareHashExtractionEnabled"] is False and profile["extractHardwareHash"] is False
    assert profile["preprovisioningAllowed"] is False and profile["enableWhiteGlove"] is False
    assert profile["deviceType"] == "windowsPc"
    assert profile["outOfBoxExperienceSetting"]["userType"] == "administrator"
    assert profile["outOfBoxExperienceSetting"]["deviceUsageType"] == "singleUser"
    assert profile["outOfBoxExperienceSettings"]["hidePrivacySettings"] is False
    assert profile["createdDateTime"] and profile["lastModifiedDateTime"]


def test_deprecated_names_write_and_stay_in_sync(client):
    profile = make_profile(client, language="de-DE", extractHardwareHash=True, enableWhiteGlove=True,
                           outOfBoxExperienceSettings={"hidePrivacySettings": True, "hideEULA": True,
                                                       "userType": "standard", "deviceUsageType": "singleUser",
                                                       "skipKeyboardSelectionPage": True, "hideEscapeLink": True})
    assert profile["locale"] == "de-DE"
    assert profile["hardwareHashExtractionEnabled"] is True and profile["preprovisioningAllowed"] is True
    assert profile["outOfBoxExperienceSetting"] == {
        "@odata.type": "microsoft.graph.outOfBoxExperienceSetting", "privacySettingsHidden": True, "eulaHidden": True,
        "userType": "standard", "deviceUsageType": "singleUser", "keyboardSelectionPageSkipped": True,
        "escapeLinkHidden": True}
    updated = client.patch(BASE + "/" + profile["id"], {"@odata.type": AAD, "locale": "fr-FR",
                                                        "outOfBoxExperienceSetting": {"eulaHidden": False}})
    assert updated.status == 200
    assert updated.body["language"] == "fr-FR"
    assert updated.body["outOfBoxExperienceSettings"]["hideEULA"] is False
    assert updated.body["outOfBoxExperienceSettings"]["hidePrivacySettings"] is True  # merged, not reset
    got = client.get(BASE + "/" + profile["id"]).body
    assert got["locale"] == got["language"] == "fr-FR"


def test_current_name_wins_when_both_are_sent(client):
    profile = make_profile(client, language="de-DE", locale="en-US", enableWhiteGlove=True, preprovisioningAllowed=False)
    assert profile["locale"] == profile["language"] == "en-US"
    assert profile["preprovisioningAllowed"] is False and profile["enableWhiteGlove"] is False


@pytest.mark.parametrize("body", [
    {"@odata.type": "#microsoft.graph.windowsAutopilotDeploymentProfile", "displayName": "base"},
    {"displayName": "no type"},
    {"@odata.type": AAD},
    {"@odata.type": AAD, "displayName": "x" * 201},
    {"@odata.type": AAD, "displayName": "d", "description": "x" * 1501},
    {"@odata.type": AAD, "displayName": "d", "deviceType": "windowsPC"},
    {"@odata.type": AAD, "displayName": "d", "outOfBoxExperienceSetting": {"userType": "Standard"}},
    {"@odata.type": AAD, "displayName": "d", "outOfBoxExperienceSetting": {"hideEULA": True}},
    {"@odata.type": AAD, "displayName": "d", "deviceNameTemplate": "PC %USER%"},
    {"@odata.type": AAD, "displayName": "d", "hybridAzureADJoinSkipConnectivityCheck": "no"},
    {"@odata.type": AAD, "displayName": "d", "roleScopeTagIds": ["42"]},
])
def test_create_validation(client, body):
    result = client.post(BASE, body)
    assert result.status == 400, result
    assert not client.tenant.set("windowsAutopilotDeploymentProfiles")


def test_limits_and_templates(client):
    assert make_profile(client, displayName="x" * 200, description="d" * 1500)["description"] == "d" * 1500
    assert make_profile(client, "T", deviceNameTemplate="AP-%SERIAL%")["deviceNameTemplate"] == "AP-%SERIAL%"
    assert make_profile(client, "R", deviceNameTemplate="AP-%RAND:5%")["deviceNameTemplate"] == "AP-%RAND:5%"
    hybrid = client.post(BASE, {"@odata.type": AD, "displayName": "Hybrid", "hybridAzureADJoinSkipConnectivityCheck": True})
    assert hybrid.status == 201 and hybrid.body["hybridAzureADJoinSkipConnectivityCheck"] is True


def test_skip_connectivity_check_accepted_and_dropped_on_entra_join_profiles(client):
    """The portal and tools send hybridAzureADJoinSkipConnectivityCheck when they create an Entra join profile; the
    service takes it and an Entra join profile's GET does not carry it (autopilot_profiles.py docstring)."""
    profile = make_profile(client, hybridAzureADJoinSkipConnectivityCheck=False)
    assert "hybridAzureADJoinSkipConnectivityCheck" not in profile
    patched = client.patch(BASE + "/" + profile["id"], {"@odata.type": AAD, "hybridAzureADJoinSkipConnectivityCheck": True})
    assert patched.status == 200 and "hybridAzureADJoinSkipConnectivityCheck" not in patched.body
    assert "hybridAzureADJoinSkipConnectivityCheck" not in stored(client, profile["id"])


def test_user_type_of_self_deploying_profiles(client):
    """Sent, a shared profile's userType is kept; not sent, none is invented (autopilot_profiles.py docstring); a
    user-driven profile gets the documented default."""
    sent = make_profile(client, "Kiosk", outOfBoxExperienceSetting={"deviceUsageType": "shared", "userType": "standard"})
    assert sent["outOfBoxExperienceSetting"]["userType"] == sent["outOfBoxExperienceSettings"]["userType"] == "standard"
    unsent = make_profile(client, "Kiosk two", outOfBoxExperienceSetting={"deviceUsageType": "shared"})
    assert unsent["outOfBoxExperienceSetting"]["userType"] is None
    assert client.get(BASE + "/" + unsent["id"]).body["outOfBoxExperienceSettings"]["userType"] is None
    old_names = make_profile(client, "Kiosk three", outOfBoxExperienceSettings={"deviceUsageType": "shared"})
    assert old_names["outOfBoxExperienceSetting"]["userType"] is None
    driven = make_profile(client, "User", outOfBoxExperienceSetting={"deviceUsageType": "singleUser"})
    assert driven["outOfBoxExperienceSetting"]["userType"] == "administrator"


def test_profile_limit_350(client):
    for index in range(350):
        make_profile(client, "P%d" % index)
    result = client.post(BASE, {"@odata.type": AAD, "displayName": "one too many"})
    assert result.status == 400 and "350" in result.error_text
    assert len(client.tenant.set("windowsAutopilotDeploymentProfiles")) == 350


def test_list_query_options(client):
    for name in ("Charlie", "alpha", "Bravo"):
        make_profile(client, name)
    listed = client.get(BASE).body["value"]
    assert [p["displayName"] for p in listed] == ["Charlie", "alpha", "Bravo"]
    assert {p["@odata.type"] for p in listed} == {AAD}
    ordered = client.get(BASE, query={"$orderby": "displayName"}).body["value"]
    assert [p["displayName"].lower() for p in ordered] == ["alpha", "bravo", "charlie"]
    top = client.get(BASE, query={"$top": "2", "$select": "id,displayName"}).body
    assert len(top["value"]) == 2 and set(top["value"][0]) <= {"id", "displayName", "@odata.type"}
    assert client.get(BASE, query={"$skip": "2"}).body["value"][0]["displayName"] == "Bravo"
    assert client.get(BASE, query={"$filter": "displayName eq 'alpha'"}).status == 400
    assert client.get(BASE, query={"$orderby": "createdDateTime"}).status == 400


def test_beta_only(client):
    with pytest.raises(Exception):
        from tests.graph_emulator import core
        core.ROUTER.match("GET", "v1.0", BASE)


def test_display_name_characters_field_reported_rule(client):
    """A hyphen (or any character outside letters, digits, spaces and : " ? . @ $ & _ [ ] { } | \\) is a bare 500 on
    create and on PATCH, as reported by CIPP-API and Microsoft365DSC; nothing is stored."""
    refused = client.post(BASE, {"@odata.type": AAD, "displayName": "User-driven - berlin"})
    assert refused.status == 500 and refused.error_code == "InternalServerError"
    assert not [p for p in client.get(BASE).body["value"] if p["displayName"] == "User-driven - berlin"]
    accepted = make_profile(client, 'Zürich: "A" ? . @ $ & _ [b] {c} | \\ d')
    patched = client.patch(BASE + "/" + accepted["id"], {"@odata.type": AAD, "displayName": "a/b"})
    assert patched.status == 500
    assert stored(client, accepted["id"])["displayName"] == 'Zürich: "A" ? . @ $ & _ [b] {c} | \\ d'


def test_delete(client):
    profile = make_profile(client)
    assert client.delete(BASE + "/" + profile["id"]).status == 204
    assert stored(client, profile["id"]) is None
    assert client.get(BASE + "/" + profile["id"]).status == 404


# --- assignments ---------------------------------------------------------------------------------------------

def group_target(group_id, kind="groupAssignmentTarget", hashed=True):
    return {"target": {"@odata.type": ("#" if hashed else "") + "microsoft.graph." + kind, "groupId": group_id}}


def test_assignments_crud_and_ids(client):
    profile = make_profile(client)
    group = client.group("Autopilot devices")
    url = BASE + "/%s/assignments" % profile["id"]
    made = client.post(url, group_target(group, hashed=False))
    assert made.status == 201
    assert made.body["id"] == "%s_%s_0" % (profile["id"], group)
    assert made.body["sourceId"] == profile["id"]
    assert made.body["target"] == {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": group,
                                   "deviceAndAppManagementAssignmentFilterId": None,
                                   "deviceAndAppManagementAssignmentFilterType": "none"}
    assert [a["id"] for a in client.get(url).body["value"]] == [made.body["id"]]
    assert client.get(url + "/" + made.body["id"]).body["target"]["groupId"] == group
    again = client.post(url, group_target(group))
    assert again.status == 409
    assert client.post(url, group_target("00000000-0000-0000-0000-000000000000")).status == 400
    assert client.delete(url + "/" + made.body["id"]).status == 204
    assert stored(client, profile["id"])["_assignments"] == {}
    assert client.delete(url + "/" + made.body["id"]).status == 404


def test_expand_assignments(client):
    profile = make_profile(client)
    group = client.group("G")
    client.post(BASE + "/%s/assignments" % profile["id"], group_target(group))
    listed = client.get(BASE, query={"$expand": "assignments"}).body["value"]
    assert [a["id"] for a in listed[0]["assignments"]] == ["%s_%s_0" % (profile["id"], group)]
    one = client.get(BASE + "/" + profile["id"], query={"$expand": "assignments", "$select": "displayName"}).body
    assert set(one) == {"@odata.context", "@odata.type", "displayName", "assignments"}


def test_assignment_filters_refused_on_profiles(client):
    profile = make_profile(client)
    group = client.group("G")
    filter_id = next(iter(client.tenant.set("assignmentFilters")))
    body = group_target(group)
    body["target"].update(deviceAndAppManagementAssignmentFilterId=filter_id,
                          deviceAndAppManagementAssignmentFilterType="include")
    assert client.post(BASE + "/%s/assignments" % profile["id"], body).status == 400
    assert stored(client, profile["id"])["_assignments"] == {}


def test_all_devices_with_exclusions_refused(client):
    profile = make_profile(client)
    group = client.group("Excluded")
    url = BASE + "/%s/assignments" % profile["id"]
    everyone = client.post(url, {"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}})
    assert everyone.status == 201
    assert everyone.body["id"] == "%s_adadadad-808e-44e2-905a-0b7873a8a531_0" % profile["id"]
    refused = client.post(url, group_target(group, "exclusionGroupAssignmentTarget"))
    assert refused.status == 400
    assert len(stored(client, profile["id"])["_assignments"]) == 1


def test_delete_refused_while_assigned(client):
    profile = make_profile(client)
    group = client.group("G")
    url = BASE + "/%s/assignments" % profile["id"]
    made = client.post(url, group_target(group)).body
    refused = client.delete(BASE + "/" + profile["id"])
    assert refused.status == 400 and refused.error_code == "BadRequest"
    assert "You must unassign all groups from this profile before you can delete it." in refused.error_text
    inner = json.loads(refused.body["error"]["message"])
    assert set(inner) == {"_version", "Message", "CustomApiErrorPhrase", "RetryAfter", "ErrorSourceService", "HttpHeaders"}
    assert stored(client, profile["id"]) is not None
    client.delete(url + "/" + made["id"])
    assert client.delete(BASE + "/" + profile["id"]).status == 204


# --- settings and sync ---------------------------------------------------------------------------------------

def test_settings_and_sync_rules():
    client = Client({"sync_duration": 10, "sync_min_interval": 600})
    settings = client.get("/deviceManagement/windowsAutopilotSettings")
    assert settings.status == 200 and settings.body["syncStatus"] == "unknown"
    first = client.post("/deviceManagement/windowsAutopilotSettings/sync")
    assert first.status == 204 and first.body is None
    running = client.get("/deviceManagement/windowsAutopilotSettings").body
    assert running["syncStatus"] == "inProgress"
    assert running["lastManualSyncTriggerDateTime"] != "0001-01-01T00:00:00Z"
    assert client.post("/deviceManagement/windowsAutopilotSettings/sync").status == 409
    client.advance(11)
    done = client.get("/deviceManagement/windowsAutopilotSettings").body
    assert done["syncStatus"] == "completed" and done["lastSyncDateTime"] > running["lastManualSyncTriggerDateTime"]
    throttled = client.post("/deviceManagement/windowsAutopilotSettings/sync")
    assert throttled.status == 429 and "Retry-After" not in throttled.headers  # the sync page mentions none
    client.advance(600)
    assert client.post("/deviceManagement/windowsAutopilotSettings/sync").status == 204


def test_bodies_match_published_schema(client, tmp_path):
    profile = make_profile(client, language="de-DE", outOfBoxExperienceSettings={"hideEULA": True},
                           enrollmentStatusScreenSettings={"hideInstallationProgress": True})
    group = client.group("G")
    client.post(BASE + "/%s/assignments" % profile["id"], group_target(group))
    client.get(BASE)
    client.get(BASE + "/" + profile["id"])
    client.get(BASE + "/%s/assignments" % profile["id"])
    client.get(BASE, query={"$expand": "assignments"})
    client.patch(BASE + "/" + profile["id"], {"@odata.type": AAD, "locale": "en-US"})
    client.get("/deviceManagement/windowsAutopilotSettings")
    client.post("/deviceManagement/windowsAutopilotSettings/sync")
    client.log = [e for e in client.log if not e["path"].startswith("/v1.0/groups")]
    code, output = client.schema_check(tmp_path)
    assert code == 0, output

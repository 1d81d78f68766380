"""deviceEnrollmentConfigurations (ESP), mobileApps, roleScopeTags and assignmentFilters of the emulator."""

import pytest

from tests.graph_emulator import enrollment
from tests.graph_emulator.tests.intune_helpers import Client

BASE = "/deviceManagement/deviceEnrollmentConfigurations"
ESP_TYPE = "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration"


@pytest.fixture
def client():
    return Client()


def make_esp(client, name="Autopilot ESP", **settings):
    body = {"@odata.type": ESP_TYPE, "displayName": name}
    body.update(settings)
    result = client.post(BASE, body)
    assert result.status == 201, result
    return result.body


def configs(client):
    return client.tenant.set("deviceEnrollmentConfigurations")


# --- list / get ----------------------------------------------------------------------------------------------

def test_fresh_tenant_lists_polymorphic_defaults(client):
    result = client.get(BASE)
    assert result.status == 200
    types = {item["@odata.type"] for item in result.body["value"]}
    assert types == {"#microsoft.graph.deviceEnrollmentLimitConfiguration",
                     "#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration",
                     "#microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration", ESP_TYPE}
    default = [i for i in result.body["value"] if i["@odata.type"] == ESP_TYPE][0]
    tenant_id = client.tenant.tenant_id
    assert default["id"] == "%s_DefaultWindows10EnrollmentCompletionPageConfiguration" % tenant_id
    assert default["displayName"] == "All users and all devices"
    assert default["priority"] == 0
    # As two real tenants export it (enrollment.py docstring).
    assert default["deviceEnrollmentConfigurationType"] == "windows10EnrollmentCompletionPageConfiguration"
    assert (default["version"], default["createdDateTime"], default["roleScopeTagIds"]) == (0, "0001-01-01T00:00:00Z", [])
    assert default["showInstallationProgress"] is False and default["installProgressTimeoutInMinutes"] == 0
    assert default["customErrorMessage"] == "" and default["blockDeviceSetupRetryByUser"] is True
    assert not any(default[k] for k in ("allowDeviceResetOnInstallFailure", "allowLogCollectionOnInstallFailure",
                                        "allowDeviceUseOnInstallFailure", "selectedMobileAppIds",
                                        "allowNonBlockingAppInstallation", "installQualityUpdates",
                                        "trackInstallProgressForAutopilotOnly", "disableUserStatusTrackingAfterFirstUser"))
    limit = [i for i in result.body["value"] if i["id"].endswith("_DefaultLimit")][0]
    assert limit["deviceEnrollmentConfigurationType"] == "limit" and limit["priority"] == 0
    assignments = client.get(BASE + "/%s/assignments" % default["id"]).body["value"]
    assert [(a["id"], a["sourceId"], a["target"]["@odata.type"]) for a in assignments] == [
        (default["id"], None, "#microsoft.graph.allDevicesAssignmentTarget")]


def test_get_by_id_and_unknown_id(client):
    esp = make_esp(client)
    got = client.get(BASE + "/" + esp["id"])
    assert got.status == 200
    assert got.body["id"] == esp["id"]
    assert got.body["@odata.context"].endswith("deviceEnrollmentConfigurations/$entity")
    assert client.get(BASE + "/nope").status == 404


def test_v1_returns_reduced_esp_shape(client):
    esp = make_esp(client, showInstallationProgress=True)
    got = client.get(BASE + "/" + esp["id"], version="v1.0").body
    assert "showInstallationProgress" not in got and "roleScopeTagIds" not in got
    assert got["allowNonBlockingAppInstallation"] is False
    assert set(got) - {"@odata.context"} == {"@odata.type", "id", "displayName", "description", "priority",
                                             "createdDateTime", "lastModifiedDateTime", "version",
                                             "allowNonBlockingAppInstallation"}
    refused = client.post(BASE, {"@odata.type": ESP_TYPE, "displayName": "x", "showInstallationProgress": True},
                          version="v1.0")
    assert refused.status == 400 and "showInstallationProgress" in refused.error_text


# --- create --------------------------------------------------------------------------------------------------

def test_create_applies_documented_defaults_and_server_fields(client):
    esp = make_esp(client, deviceEnrollmentConfigurationType="limit", priority=42, id="mine", version=9)
    assert esp["id"].endswith("_Windows10EnrollmentCompletionPageConfiguration") and esp["id"] != "mine"
    assert esp["deviceEnrollmentConfigurationType"] == "windows10EnrollmentCompletionPageConfiguration"
    assert esp["priority"] == 1 and esp["version"] == 1
    assert esp["installProgressTimeoutInMinutes"] == 60
    assert esp["customErrorMessage"] == enrollment.DEFAULT_ESP_MESSAGE
    for key in ("showInstallationProgress", "blockDeviceSetupRetryByUser", "allowDeviceResetOnInstallFailure",
                "allowLogCollectionOnInstallFailure", "allowDeviceUseOnInstallFailure",
                "trackInstallProgressForAutopilotOnly", "disableUserStatusTrackingAfterFirstUser"):
        assert esp[key] is False, key
    assert esp["selectedMobileAppIds"] == [] and esp["roleScopeTagIds"] == ["0"]
    assert esp["createdDateTime"] == esp["lastModifiedDateTime"]
    assert configs(client)[esp["id"]]["displayName"] == "Autopilot ESP"


def test_new_esps_get_next_free_priority(client):
    assert [make_esp(client, "E%d" % i)["priority"] for i in range(3)] == [1, 2, 3]


@pytest.mark.parametrize("body, fragment", [
    ({"displayName": "no type"}, "@odata.type"),
    ({"@odata.type": "#microsoft.graph.deviceEnrollmentConfiguration", "displayName": "base"}, "could not be resolved"),
    ({"@odata.type": ESP_TYPE, "displayName": "x", "showProgress": True}, "showProgress"),
    ({"@odata.type": ESP_TYPE, "displayName": "x", "showInstallationProgress": "yes"}, "Edm.Boolean"),
    ({"@odata.type": ESP_TYPE, "displayName": "x", "installProgressTimeoutInMinutes": "60"}, "Edm.Int32"),
    ({"@odata.type": ESP_TYPE, "displayName": "x", "installProgressTimeoutInMinutes": -1}, "negative"),
    ({"@odata.type": ESP_TYPE, "displayName": "x", "customErrorMessage": "m" * 10001}, "10000"),
    ({"@odata.type": ESP_TYPE, "displayName": "x", "selectedMobileAppIds": ["not-an-app"]}, "not-an-app"),
    ({"@odata.type": ESP_TYPE, "displayName": "x", "roleScopeTagIds": ["99"]}, "99"),
])
def test_create_rejects_bad_bodies(client, body, fragment):
    before = len(configs(client))
    result = client.post(BASE, body)
    assert result.status == 400, result
    assert fragment in result.error_text
    assert len(configs(client)) == before


def test_custom_message_of_exactly_max_length_is_accepted(client):
    assert make_esp(client, customErrorMessage="m" * 10000)["customErrorMessage"] == "m" * 10000


def test_selected_apps_must_exist(client):
    app_ids = list(client.tenant.set("mobileApps"))[:2]
    esp = make_esp(client, selectedMobileAppIds=app_ids)
    assert esp["selectedMobileAppIds"] == app_ids


# --- update --------------------------------------------------------------------------------------------------

def test_patch_returns_200_entity_and_bumps_version(client):
    esp = make_esp(client)
    client.advance(5)
    body = {"@odata.type": ESP_TYPE, "showInstallationProgress": True, "priority": 7}
    result = client.patch(BASE + "/" + esp["id"], body)
    assert result.status == 200
    assert result.body["showInstallationProgress"] is True
    assert result.body["version"] == 2 and result.body["priority"] == 1
    assert result.body["lastModifiedDateTime"] > esp["lastModifiedDateTime"]
    assert configs(client)[esp["id"]]["showInstallationProgress"] is True


@pytest.mark.parametrize("body", [{"bogus": 1}, {"customErrorMessage": "x" * 10001}, {"allowDeviceUseOnInstallFailure": 1},
                                  {"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration"}])
def test_patch_validates(client, body):
    esp = make_esp(client)
    if "@odata.type" not in body:
        body = dict(body, **{"@odata.type": ESP_TYPE})
    result = client.patch(BASE + "/" + esp["id"], body)
    assert result.status == 400
    assert configs(client)[esp["id"]]["version"] == 1


def test_patch_without_odata_type_reads_the_base_type(client):
    esp = make_esp(client)
    assert client.patch(BASE + "/" + esp["id"], {"showInstallationProgress": True}).status == 400
    assert client.patch(BASE + "/" + esp["id"], {"description": "base property"}).status == 200
    assert configs(client)[esp["id"]]["description"] == "base property"


def test_default_esp_settings_editable_but_name_is_not(client):
    default_id = enrollment.default_esp_id(client.tenant)
    assert client.patch(BASE + "/" + default_id, {"@odata.type": ESP_TYPE, "showInstallationProgress": True}).status == 200
    assert configs(client)[default_id]["showInstallationProgress"] is True
    renamed = client.patch(BASE + "/" + default_id, {"displayName": "Mine"})
    assert renamed.status == 400
    assert configs(client)[default_id]["displayName"] == "All users and all devices"


# --- delete --------------------------------------------------------------------------------------------------

def test_delete_and_renumber(client):
    first, second, third = (make_esp(client, n) for n in ("A", "B", "C"))
    assert client.delete(BASE + "/" + first["id"]).status == 204
    assert first["id"] not in configs(client)
    assert configs(client)[second["id"]]["priority"] == 1 and configs(client)[third["id"]]["priority"] == 2
    assert client.delete(BASE + "/" + first["id"]).status == 404


def test_default_esp_cannot_be_deleted(client):
    default_id = enrollment.default_esp_id(client.tenant)
    result = client.delete(BASE + "/" + default_id)
    assert result.status == 400 and result.error_code == "BadRequest"
    assert "cannot be deleted" in result.error_text
    assert default_id in configs(client)


# --- setPriority ---------------------------------------------------------------------------------------------

def test_set_priority_moves_and_renumbers(client):
    a, b, c = (make_esp(client, n) for n in ("A", "B", "C"))
    assert client.post(BASE + "/%s/setPriority" % c["id"], {"priority": 1}).status == 204
    prio = {e["displayName"]: e["priority"] for e in configs(client).values() if e["displayName"] in "ABC"}
    assert prio == {"C": 1, "A": 2, "B": 3}
    assert client.post(BASE + "/%s/setPriority" % c["id"], {"priority": 99}).status == 204
    prio = {e["displayName"]: e["priority"] for e in configs(client).values() if e["displayName"] in "ABC"}
    assert prio == {"A": 1, "B": 2, "C": 3}


def test_set_priority_refusals(client):
    esp = make_esp(client)
    default_id = enrollment.default_esp_id(client.tenant)
    assert client.post(BASE + "/%s/setPriority" % default_id, {"priority": 1}).status == 400
    assert configs(client)[default_id]["priority"] == 0
    assert client.post(BASE + "/%s/setPriority" % esp["id"], {"priority": 1}).status == 400  # unchanged priority
    assert client.post(BASE + "/%s/setPriority" % esp["id"], {"priority": 0}).status == 400
    assert client.post(BASE + "/%s/setPriority" % esp["id"], {"priority": "2"}).status == 400
    assert client.post(BASE + "/%s/setPriority" % esp["id"], {}).status == 400


def test_priorities_are_per_configuration_family(client):
    esp = make_esp(client)
    limit = client.post(BASE, {"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
                               "displayName": "Limit 3", "limit": 3})
    assert limit.status == 201
    assert limit.body["priority"] == 1 and esp["priority"] == 1
    assert limit.body["id"].endswith("_Limit")


# --- assign / assignments ------------------------------------------------------------------------------------

def target(kind, group_id=None, hashed=True, **extra):
    body = {"@odata.type": ("#" if hashed else "") + "microsoft.graph." + kind}
    if group_id:
        body["groupId"] = group_id
    body.update(extra)
    return {"target": body}


def test_assign_replaces_the_whole_set(client):
    esp = make_esp(client)
    g1, g2 = client.group("Autopilot A"), client.group("Autopilot B")
    url = BASE + "/%s/assign" % esp["id"]
    both = [target("groupAssignmentTarget", g1), target("exclusionGroupAssignmentTarget", g2, hashed=False)]
    first = client.post(url, {"enrollmentConfigurationAssignments": both})
    assert first.status == 204 and first.body is None
    listed = client.get(BASE + "/%s/assignments" % esp["id"]).body["value"]
    assert sorted((a["target"]["@odata.type"], a["target"]["groupId"]) for a in listed) == [
        ("#microsoft.graph.exclusionGroupAssignmentTarget", g2), ("#microsoft.graph.groupAssignmentTarget", g1)]
    guid = esp["id"].partition("_")[0]   # ids as a real export shows them (enrollment.py docstring)
    assert sorted((a["id"], a["sourceId"]) for a in listed) == sorted(("%s_%s_%s" % (guid, g, guid), guid) for g in (g1, g2))
    assert client.post(url, {"enrollmentConfigurationAssignments": [target("groupAssignmentTarget", g2)]}).status == 204
    stored = configs(client)[esp["id"]]["_assignments"]
    assert [a["target"]["groupId"] for a in stored] == [g2]
    assert client.post(url, {"enrollmentConfigurationAssignments": []}).status == 204
    assert configs(client)[esp["id"]]["_assignments"] == []


def test_assign_with_filter(client):
    esp = make_esp(client)
    group = client.group("Autopilot")
    filter_id = next(iter(client.tenant.set("assignmentFilters")))
    body = {"enrollmentConfigurationAssignments": [target(
        "groupAssignmentTarget", group, deviceAndAppManagementAssignmentFilterId=filter_id,
        deviceAndAppManagementAssignmentFilterType="include")]}
    assert client.post(BASE + "/%s/assign" % esp["id"], body).status == 204
    listed = client.get(BASE + "/%s/assignments" % esp["id"]).body["value"][0]
    assert listed["target"]["deviceAndAppManagementAssignmentFilterId"] == filter_id
    assert listed["target"]["deviceAndAppManagementAssignmentFilterType"] == "include"
    assert listed["source"] == "direct"
    v1 = client.get(BASE + "/%s/assignments" % esp["id"], version="v1.0").body["value"][0]
    assert "deviceAndAppManagementAssignmentFilterId" not in v1["target"] and "source" not in v1


@pytest.mark.parametrize("assignments", [
    [target("allDevicesAssignmentTarget"), target("exclusionGroupAssignmentTarget", "GROUP")],
    [target("groupAssignmentTarget", "00000000-0000-0000-0000-00000000dead")],
    [target("groupAssignmentTarget", "GROUP"), target("groupAssignmentTarget", "GROUP")],
    [target("groupAssignmentTarget", "GROUP"), target("exclusionGroupAssignmentTarget", "GROUP")],
    [target("configurationManagerCollectionAssignmentTarget")],
    [target("groupAssignmentTarget", "GROUP", deviceAndAppManagementAssignmentFilterId="nope",
            deviceAndAppManagementAssignmentFilterType="include")],
    [target("groupAssignmentTarget", "GROUP", deviceAndAppManagementAssignmentFilterType="include")],
    [{"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "GROUP", "extra": 1}}],
])
def test_assign_validation_changes_nothing(client, assignments):
    esp = make_esp(client)
    group = client.group("Autopilot")
    keep = client.group("Keep")
    url = BASE + "/%s/assign" % esp["id"]
    assert client.post(url, {"enrollmentConfigurationAssignments": [target("groupAssignmentTarget", keep)]}).status == 204
    for item in assignments:
        if item["target"].get("groupId") == "GROUP":
            item["target"]["groupId"] = group
    result = client.post(url, {"enrollmentConfigurationAssignments": assignments})
    assert result.status == 400, result
    assert [a["target"]["groupId"] for a in configs(client)[esp["id"]]["_assignments"]] == [keep]


def test_esp_refuses_filters_on_unsupported_properties(client):
    esp = make_esp(client)
    group = client.group("G")
    filters = {f["displayName"]: f["id"] for f in client.tenant.set("assignmentFilters").values()}
    url = BASE + "/%s/assign" % esp["id"]

    def with_filter(filter_id):
        return {"enrollmentConfigurationAssignments": [target(
            "groupAssignmentTarget", group, deviceAndAppManagementAssignmentFilterId=filter_id,
            deviceAndAppManagementAssignmentFilterType="exclude")]}

    refused = client.post(url, with_filter(filters["Surface devices"]))
    assert refused.status == 400 and "osVersion" in refused.error_text
    assert configs(client)[esp["id"]]["_assignments"] == []
    assert client.post(url, with_filter(filters["Windows 11 devices"])).status == 204


def test_expand_assignments(client):
    esp = make_esp(client)
    group = client.group("G")
    client.post(BASE + "/%s/assign" % esp["id"], {"enrollmentConfigurationAssignments": [target("groupAssignmentTarget", group)]})
    listed = client.get(BASE, query={"$expand": "assignments", "$select": "id,displayName"}).body["value"]
    mine = [c for c in listed if c["id"] == esp["id"]][0]
    assert [a["target"]["groupId"] for a in mine["assignments"]] == [group]
    assert "showInstallationProgress" not in mine
    one = client.get(BASE + "/" + esp["id"], query={"$expand": "assignments"}).body
    assert one["assignments"][0]["target"]["groupId"] == group
    assert "assignments" not in client.get(BASE + "/" + esp["id"]).body
    assert client.get(BASE, query={"$expand": "bogus"}).status == 400


def test_default_esp_assignments_are_fixed(client):
    default_id = enrollment.default_esp_id(client.tenant)
    group = client.group("G")
    result = client.post(BASE + "/%s/assign" % default_id,
                         {"enrollmentConfigurationAssignments": [target("groupAssignmentTarget", group)]})
    assert result.status == 400
    assert len(configs(client)[default_id]["_assignments"]) == 1


def test_assignment_navigation_crud(client):
    esp = make_esp(client)
    group = client.group("G")
    url = BASE + "/%s/assignments" % esp["id"]
    made = client.post(url, target("groupAssignmentTarget", group))
    assert made.status == 201 and made.body["target"]["groupId"] == group
    assert client.get(url + "/" + made.body["id"]).body["id"] == made.body["id"]
    assert client.post(url, target("groupAssignmentTarget", group)).status == 400  # same target twice
    assert client.delete(url + "/" + made.body["id"]).status == 204
    assert configs(client)[esp["id"]]["_assignments"] == []
    assert client.get(url + "/" + made.body["id"]).status == 404


# --- apps, scope tags, filters -------------------------------------------------------------------------------

def test_mobile_apps_paging_and_filter():
    client = Client({"page_size": 5})
    apps = client.all_pages("/deviceAppManagement/mobileApps")
    assert len(apps) == len(client.tenant.set("mobileApps")) > 5
    assert len({a["@odata.type"] for a in apps}) >= 4
    portal = client.get("/deviceAppManagement/mobileApps", query={"$filter": "displayName eq 'Company Portal'"})
    assert len(portal.body["value"]) == 2  # two apps share the name: resolving by name must detect ambiguity
    one = client.get("/deviceAppManagement/mobileApps/" + apps[0]["id"])
    assert one.status == 200 and one.body["displayName"] == apps[0]["displayName"]
    assert client.get("/deviceAppManagement/mobileApps/nope").status == 404


def test_scope_tags_and_filters(client):
    tags = client.get("/deviceManagement/roleScopeTags").body["value"]
    assert {t["displayName"] for t in tags} >= {"Default"}
    assert [t for t in tags if t["id"] == "0"][0]["isBuiltIn"] is True
    assert client.get("/deviceManagement/roleScopeTags/0").body["displayName"] == "Default"
    filters = client.get("/deviceManagement/assignmentFilters").body["value"]
    assert filters and all(f["platform"] == "windows10AndLater" for f in filters)
    assert any("enrollmentProfileName" in f["rule"] for f in filters)
    assert client.get("/deviceManagement/assignmentFilters/" + filters[0]["id"]).status == 200


def test_bodies_match_published_schema(client, tmp_path):
    esp = make_esp(client, showInstallationProgress=True, selectedMobileAppIds=list(client.tenant.set("mobileApps"))[:1])
    group = client.group("G")
    client.post(BASE + "/%s/assign" % esp["id"], {"enrollmentConfigurationAssignments": [target("groupAssignmentTarget", group)]})
    client.get(BASE)
    client.get(BASE, version="v1.0")
    client.get(BASE + "/%s/assignments" % esp["id"])
    client.get(BASE, query={"$expand": "assignments"})
    client.patch(BASE + "/" + esp["id"], {"@odata.type": ESP_TYPE, "installProgressTimeoutInMinutes": 90})
    client.get("/deviceAppManagement/mobileApps")
    client.get("/deviceManagement/roleScopeTags")
    client.get("/deviceManagement/assignmentFilters")
    client.log = [e for e in client.log if not e["path"].startswith("/v1.0/groups")]
    code, output = client.schema_check(tmp_path)
    assert code == 0, output

# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Adopt real-world objects: each object of files/real_world is created in the emulator through Graph, as the
portal or the tool it comes from created it, then the matching module is given the settings the object already has
and must report no change, fail nothing and send no Graph write, in --check and in a real run (issue 13, "done
when"). The emulator's state of the object must be the same afterwards.

Where each object comes from, and what it exercises, is written beside it in its JSON file and summed up in
files/real_world/PROVENANCE.md.

How an object is created (``create`` in the data):

``post``
    POST of ``object`` to the collection's Graph path (``path`` for groups, beta for ESPs and profiles), then its
    assignments: one ``assign`` action for an ESP, one POST per assignment for a profile.
``patch-default``
    PATCH of the built-in default ESP with ``object`` (the default cannot be created; tools change it this way).
``control-default``
    the default ESP as a fresh tenant holds it: no Graph write ever produced it, so its settings are written over
    the emulator's seeded default through the control API.
``import``
    a device as the portal registers one: ``importedWindowsAutopilotDeviceIdentities/import`` (the CSV upload, with
    a made-up hash, since no export carries one), the emulator's clock moved past the import, then the portal's
    "Assign user" (``assignUserToDevice``, with the user's friendly name) and computer name
    (``updateDeviceProperties``) where the object has them, and the import record deleted.

What Graph has no create path for is added with the control API: the apps, users and scope tags an object needs.

The steps are spaced as an admin's are: the next step in the portal comes minutes after the previous one. On the
realistic profile (``INTUNE_EMULATOR_PROFILE=realistic``) the emulator's clock is moved past the service's delays
between them (:func:`wait_out`): a group created through Graph before it is assigned (Intune's assignment service
learns of it later), an import before its device is used (the portal's "Sync", then the device is listed). On the
best-case profile those delays are 0 and nothing moves.

The module options are derived, not written by hand: a small mapping from the Graph property names to each module's
options (the option descriptions in the modules' DOCUMENTATION name the property of each), applied to the object as
the emulator returns it after creation. That is "the settings it already has" by construction, with no hand-written
option set that could drift from its object, and the mapping is reviewable in one place (``*_options`` below).
Choices the documentation dictates: a null property is left out (omitted options are left as they are); apps and
scope tags are given by id, groups by display name (the modules take either); a profile's empty or null locale is
``os-default`` (autopilot_profile: "A profile whose locale Graph returns empty counts as os-default"); the
deprecated profile names are read where the current ones are missing; every list (apps, scope tags, assignments,
members) is given complete. A hybrid join profile is outside autopilot_profile, which manages Entra join profiles:
given the hybrid profile's name and settings it must not create a second profile beside it; reporting no change, or
failing with a message that names the hybrid profile, both pass, and neither may write.
"""

import base64
import hashlib
import json
import uuid
from pathlib import Path

import pytest
import requests

FILES = Path(__file__).resolve().parent / "files" / "real_world"
ESP_PATH = "/beta/deviceManagement/deviceEnrollmentConfigurations"
PROFILE_PATH = "/beta/deviceManagement/windowsAutopilotDeploymentProfiles"
IMPORT_PATH = "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities"
DEVICE_PATH = "/beta/deviceManagement/windowsAutopilotDeviceIdentities"
DEFAULT_ESP_SUFFIX = "_DefaultWindows10EnrollmentCompletionPageConfiguration"
ESP_OPTIONS = (
    ("displayName", "display_name"), ("description", "description"),
    ("showInstallationProgress", "show_installation_progress"),
    ("installProgressTimeoutInMinutes", "install_progress_timeout_in_minutes"),
    ("customErrorMessage", "custom_error_message"),
    ("allowLogCollectionOnInstallFailure", "allow_log_collection_on_install_failure"),
    ("trackInstallProgressForAutopilotOnly", "track_install_progress_for_autopilot_only"),
    ("disableUserStatusTrackingAfterFirstUser", "disable_user_status_tracking_after_first_user"),
    ("installQualityUpdates", "install_quality_updates"),
    ("blockDeviceSetupRetryByUser", "block_device_setup_retry_by_user"),
    ("allowDeviceResetOnInstallFailure", "allow_device_reset_on_install_failure"),
    ("allowDeviceUseOnInstallFailure", "allow_device_use_on_install_failure"),
    ("allowNonBlockingAppInstallation", "allow_non_blocking_app_installation"),
    ("selectedMobileAppIds", "selected_apps"), ("roleScopeTagIds", "scope_tags"), ("priority", "priority"),
)
NOT_FOR_DEFAULT_ESP = ("display_name", "description", "scope_tags", "priority")
# current outOfBoxExperienceSetting name -> (option, deprecated outOfBoxExperienceSettings name)
OOBE_OPTIONS = (
    ("privacySettingsHidden", "privacy_settings_hidden", "hidePrivacySettings"),
    ("eulaHidden", "eula_hidden", "hideEULA"),
    ("userType", "user_type", "userType"),
    ("deviceUsageType", "device_usage_type", "deviceUsageType"),
    ("keyboardSelectionPageSkipped", "keyboard_selection_page_skipped", "skipKeyboardSelectionPage"),
    ("escapeLinkHidden", "escape_link_hidden", "hideEscapeLink"),
)
# current profile property -> (option, deprecated property)
PROFILE_OPTIONS = (
    ("displayName", "display_name", None), ("description", "description", None),
    ("deviceNameTemplate", "device_name_template", None), ("deviceType", "device_type", None),
    ("hardwareHashExtractionEnabled", "hardware_hash_extraction_enabled", "extractHardwareHash"),
    ("preprovisioningAllowed", "preprovisioning_allowed", "enableWhiteGlove"),
    ("roleScopeTagIds", "scope_tags", None),
)
GROUP_OPTIONS = (("displayName", "display_name"), ("description", "description"), ("mailNickname", "mail_nickname"))


def load_cases():
    cases = []
    for name in ("esp.json", "autopilot_profile.json", "aad_group.json", "autopilot_device.json"):
        data = json.loads((FILES / name).read_text(encoding="utf-8"))
        cases.extend(pytest.param(data["module"], case, id="%s:%s" % (data["module"], case["id"])) for case in data["cases"])
    return cases


def public(obj):
    """A data entry without the keys that annotate it (``_note``)."""
    return dict((k, v) for k, v in obj.items() if not k.startswith("_"))


class Graph:
    """Graph calls with the emulator's default app, independent of the collection's client."""

    def __init__(self, emulator):
        self.url = emulator.url
        self.verify = emulator.ca_path  # per request: REQUESTS_CA_BUNDLE would override Session.verify
        self.session = requests.Session()
        token = self.session.post("%s/%s/oauth2/v2.0/token" % (emulator.url, emulator.tenant_id), data={
            "grant_type": "client_credentials", "client_id": emulator.client_id,
            "client_secret": emulator.client_secret, "scope": "https://graph.microsoft.com/.default"},
            timeout=30, verify=self.verify)
        token.raise_for_status()
        self.session.headers["Authorization"] = "Bearer " + token.json()["access_token"]

    def call(self, method, path, body=None, what="the real object"):
        """One Graph request; a refusal fails the test as an emulator finding, with the status and the body."""
        response = self.session.request(method, self.url + path, json=body, timeout=30, verify=self.verify)
        assert response.status_code < 400, "EMULATOR refused %s: %s %s -> %d %s\nbody sent: %s" % (
            what, method, path, response.status_code, response.text[:1500], json.dumps(body)[:1500])
        return response.json() if response.content else None

    def list(self, path):
        items, url = [], self.url + path
        while url:
            page = self.session.get(url, timeout=30, verify=self.verify).json()
            items.extend(page["value"])
            url = page.get("@odata.nextLink")
        return items


# ---------------------------------------------------------------------------------------------------------------
# Creating the objects
# ---------------------------------------------------------------------------------------------------------------

def wait_out(emulator, *delays):
    """Move the emulator's clock past the longest of the service delays named (settings, in service seconds)."""
    settings = emulator.control("GET", "settings")
    seconds = max(float(settings.get(name) or 0) for name in delays) / float(settings.get("time_scale") or 1)
    if seconds:
        emulator.advance(seconds + 1)


def add_requirements(emulator, graph, requires):
    """Apps, users and scope tags through the control API (Graph has no create path for them here), groups through
    Graph. Returns group display name -> id."""
    sets = {}
    for app in requires.get("apps", []):
        sets.setdefault("mobileApps", []).append(dict(public(app), description=app["displayName"], isAssigned=False,
                                                      publishingState="published", roleScopeTagIds=["0"]))
    for user in requires.get("users", []):
        sets.setdefault("users", []).append(dict(public(user), id=str(uuid.uuid4()), accountEnabled=True,
                                                 mail=user["userPrincipalName"]))
    for tag in requires.get("scopeTags", []):
        sets.setdefault("roleScopeTags", []).append(dict(public(tag), isBuiltIn=False,
                                                         **{"@odata.type": "#microsoft.graph.roleScopeTag"}))
    if sets:
        emulator.seed({"sets": sets})
    groups = {}
    for group in requires.get("groups", []):
        groups[group["displayName"]] = graph.call("POST", "/v1.0/groups", public(group), "a group the object needs")["id"]
    if groups:
        wait_out(emulator, "group_assignment_delay", "replication_delay")
    return groups


def target(entry, groups):
    out = dict((k, v) for k, v in entry.items() if k != "group")
    if "group" in entry:
        out["groupId"] = groups[entry["group"]]
    return out


def default_esp_id(graph):
    found = [c["id"] for c in graph.list(ESP_PATH) if c["id"].endswith(DEFAULT_ESP_SUFFIX)]
    assert len(found) == 1, found
    return found[0]


def create_esp(emulator, graph, case, groups):
    if case["create"] == "control-default":
        esp_id = default_esp_id(graph)
        entity = emulator.state()["sets"]["deviceEnrollmentConfigurations"][esp_id]
        entity.update(case["object"])
        emulator.seed({"sets": {"deviceEnrollmentConfigurations": [entity]}})
        return esp_id
    if case["create"] == "patch-default":
        esp_id = default_esp_id(graph)
        graph.call("PATCH", "%s/%s" % (ESP_PATH, esp_id), case["object"])
        return esp_id
    esp_id = graph.call("POST", ESP_PATH, case["object"])["id"]
    if case.get("assignments"):
        graph.call("POST", "%s/%s/assign" % (ESP_PATH, esp_id), {"enrollmentConfigurationAssignments": [
            {"@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment", "target": target(a, groups)}
            for a in case["assignments"]]}, "the object's assignments")
    return esp_id


def create_profile(graph, case, groups):
    profile_id = graph.call("POST", PROFILE_PATH, case["object"])["id"]
    for entry in case.get("assignments", []):
        graph.call("POST", "%s/%s/assignments" % (PROFILE_PATH, profile_id), {
            "@odata.type": "#microsoft.graph.windowsAutopilotDeploymentProfileAssignment",
            "target": target(entry, groups)}, "the object's assignments")
    return profile_id


def create_device(emulator, graph, case, users):
    device = case["object"]
    serial = device["serialNumber"]
    record = graph.call("POST", IMPORT_PATH + "/import", {"importedWindowsAutopilotDeviceIdentities": [{
        "@odata.type": "#microsoft.graph.importedWindowsAutopilotDeviceIdentity", "serialNumber": serial,
        "productKey": device.get("productKey") or "", "groupTag": device.get("groupTag") or "",
        "hardwareIdentifier": base64.b64encode(hashlib.sha512(serial.encode()).digest() * 2).decode()}]})["value"][0]
    emulator.advance(60)
    state = graph.call("GET", "%s/%s" % (IMPORT_PATH, record["id"]))["state"]
    assert state["deviceImportStatus"] == "complete", "EMULATOR did not register the device: %s" % state
    device_id = state["deviceRegistrationId"]
    graph.call("POST", "/beta/deviceManagement/windowsAutopilotSettings/sync", what="the portal's sync after an import")
    wait_out(emulator, "sync_duration")
    if device.get("userPrincipalName"):
        graph.call("POST", "%s/%s/assignUserToDevice" % (DEVICE_PATH, device_id), {
            "userPrincipalName": device["userPrincipalName"],
            "addressableUserName": device.get("addressableUserName") or users[device["userPrincipalName"]]})
    if device.get("displayName"):
        graph.call("POST", "%s/%s/updateDeviceProperties" % (DEVICE_PATH, device_id), {"displayName": device["displayName"]})
    graph.call("DELETE", "%s/%s" % (IMPORT_PATH, record["id"]))
    return device_id


def create(emulator, graph, module, case):
    """Create the case's object as its source did; returns (emulator set name, object id)."""
    requires = case.get("requires", {})
    groups = add_requirements(emulator, graph, requires)
    if module == "intune_esp":
        return "deviceEnrollmentConfigurations", create_esp(emulator, graph, case, groups)
    if module == "autopilot_profile":
        return "windowsAutopilotDeploymentProfiles", create_profile(graph, case, groups)
    if module == "aad_group":
        group_id = graph.call("POST", case["path"], case["object"])["id"]
        wait_out(emulator, "replication_delay")
        return "groups", group_id
    users = dict((u["userPrincipalName"], u["displayName"]) for u in requires.get("users", []))
    return "windowsAutopilotDeviceIdentities", create_device(emulator, graph, case, users)


# ---------------------------------------------------------------------------------------------------------------
# The options an admin writes for the object as it is
# ---------------------------------------------------------------------------------------------------------------

def assignment_options(graph, assignments):
    out = []
    for assignment in assignments:
        tgt = assignment["target"]
        kind = tgt["@odata.type"].rsplit(".", 1)[-1]
        if kind == "allDevicesAssignmentTarget":
            entry = {"all_devices": True}
        elif kind == "allLicensedUsersAssignmentTarget":
            entry = {"all_users": True}
        else:
            entry = {"group": graph.call("GET", "/v1.0/groups/%s" % tgt["groupId"])["displayName"]}
            if kind == "exclusionGroupAssignmentTarget":
                entry["exclude"] = True
        if tgt.get("deviceAndAppManagementAssignmentFilterId"):
            flt = graph.call("GET", "/beta/deviceManagement/assignmentFilters/%s" % tgt["deviceAndAppManagementAssignmentFilterId"])
            entry.update(filter=flt["displayName"], filter_mode=tgt["deviceAndAppManagementAssignmentFilterType"])
        out.append(entry)
    return out


def esp_options(graph, esp_id):
    esp = graph.call("GET", "%s/%s" % (ESP_PATH, esp_id))
    default = esp_id.endswith(DEFAULT_ESP_SUFFIX)
    options = dict((option, esp[prop]) for prop, option in ESP_OPTIONS if esp.get(prop) is not None)
    if default:
        for option in NOT_FOR_DEFAULT_ESP:
            options.pop(option, None)
        options["default"] = True
    else:
        options["assignments"] = assignment_options(graph, graph.list("%s/%s/assignments" % (ESP_PATH, esp_id)))
    return options


def profile_options(graph, profile_id):
    profile = graph.call("GET", "%s/%s" % (PROFILE_PATH, profile_id))
    options = {}
    for prop, option, deprecated in PROFILE_OPTIONS:
        value = profile.get(prop)
        if value is None and deprecated:
            value = profile.get(deprecated)
        if value is not None:
            options[option] = value
    options["locale"] = profile.get("locale") or profile.get("language") or "os-default"
    current, old = profile.get("outOfBoxExperienceSetting") or {}, profile.get("outOfBoxExperienceSettings") or {}
    oobe = {}
    for prop, option, deprecated in OOBE_OPTIONS:
        value = current.get(prop)
        if value is None:
            value = old.get(deprecated)
        if value is not None:
            oobe[option] = value
    if oobe:
        options["out_of_box_experience_setting"] = oobe
    options["assignments"] = assignment_options(graph, graph.list("%s/%s/assignments" % (PROFILE_PATH, profile_id)))
    return options


def group_options(graph, group_id):
    group = graph.call("GET", "/v1.0/groups/%s" % group_id)
    options = dict((option, group[prop]) for prop, option in GROUP_OPTIONS if group.get(prop) is not None)
    if "DynamicMembership" in (group.get("groupTypes") or []):
        options["membership_rule"] = group["membershipRule"]
        options["membership_rule_processing_state"] = group["membershipRuleProcessingState"]
    else:
        members = graph.list("/v1.0/groups/%s/members" % group_id)
        options["members"] = [m.get("userPrincipalName") or m["id"] for m in members]
    return options


def device_options(graph, device_id):
    device = graph.call("GET", "%s/%s" % (DEVICE_PATH, device_id))
    options = {"serial_number": device["serialNumber"], "group_tag": device.get("groupTag") or "",
               "assigned_user": device.get("userPrincipalName") or ""}
    if options["assigned_user"]:
        options["addressable_user_name"] = device.get("addressableUserName") or ""
    if device.get("displayName"):
        options["display_name"] = device["displayName"]
    return options


OPTIONS = {"intune_esp": esp_options, "autopilot_profile": profile_options, "aad_group": group_options,
           "autopilot_device": device_options}


# ---------------------------------------------------------------------------------------------------------------
# The test
# ---------------------------------------------------------------------------------------------------------------

def play(module, options):
    return json.dumps([{"name": "adopt a real-world object", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "adopt", "intune.autopilot.%s" % module: options, "register": "out", "ignore_errors": True}]}], indent=1)


def snapshot(emulator, set_name, object_id):
    entity = emulator.state()["sets"][set_name][object_id]
    return dict((k, v) for k, v in entity.items() if not k.startswith("_"))


def writes_text(writes):
    return "; ".join("%s %s %s" % (w["method"], w["path"], json.dumps(w.get("request_body"))[:300]) for w in writes)


def hybrid_outcome_ok(status, result):
    """A hybrid join profile: no change, or a failure that names it (never a second profile)."""
    if status == "failed":
        message = (result.get("msg") or "").lower()
        return "hybrid" in message or "activedirectorywindowsautopilotdeploymentprofile" in message
    return result.get("changed") is False


@pytest.mark.parametrize("module, case", load_cases())
def test_module_adopts_the_object_as_it_is(run_playbook, emulator, module, case):
    emulator.reset()
    graph = Graph(emulator)
    set_name, object_id = create(emulator, graph, module, case)
    options = OPTIONS[module](graph, object_id)
    before = snapshot(emulator, set_name, object_id)

    for check in (True, False):
        run = "--check run" if check else "real run"
        mark = emulator.mark()
        result = run_playbook(play(module, options), check=check, diff=True)
        writes = emulator.writes_since(mark)
        found = [t for t in result.tasks if t["task"] == "adopt"]
        assert len(found) == 1, result.output[-3000:]
        status, out = found[0]["status"], found[0]["result"]
        if case.get("hybrid"):
            assert hybrid_outcome_ok(status, out) and not writes, (
                "MODULE %s on a hybrid join profile (%s): %s, changed=%s, msg=%s, writes: %s\noptions: %s" % (
                    module, run, status, out.get("changed"), out.get("msg"), writes_text(writes), json.dumps(options)))
            continue
        assert status != "failed", "MODULE %s failed in the %s: %s\noptions: %s" % (
            module, run, out.get("msg"), json.dumps(options))
        assert out.get("changed") is False, "MODULE %s reports changed in the %s: diff %s\noptions: %s" % (
            module, run, json.dumps(out.get("diff")), json.dumps(options))
        assert writes == [], "MODULE %s sent Graph writes in the %s: %s" % (module, run, writes_text(writes))

    assert snapshot(emulator, set_name, object_id) == before, "the object changed in the emulator"

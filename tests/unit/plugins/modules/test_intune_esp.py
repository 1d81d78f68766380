# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""intune_esp through the real engine and an in-memory Graph: option -> Graph property mapping, what is refused and
what only warns, ESPs adopted as real tenants hold them, every problem at once, one read of the collection, the default
ESP, the assign body and the priority range. No network."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import re

import pytest

from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import Context, EngineError, ensure
from ansible_collections.intune.autopilot.plugins.module_utils import _intune_esp as esp
from ansible_collections.intune.autopilot.plugins.modules.intune_esp import argument_spec

PATH = esp.PATH
# Graph property names from api-reference/beta/resources/intune-onboarding-windows10enrollmentcompletionpageconfiguration.md
GRAPH_PROPERTIES = {
    "displayName", "description", "priority", "roleScopeTagIds", "showInstallationProgress",
    "blockDeviceSetupRetryByUser", "allowDeviceResetOnInstallFailure", "allowLogCollectionOnInstallFailure",
    "customErrorMessage", "installProgressTimeoutInMinutes", "allowDeviceUseOnInstallFailure", "selectedMobileAppIds",
    "allowNonBlockingAppInstallation", "installQualityUpdates", "trackInstallProgressForAutopilotOnly",
    "disableUserStatusTrackingAfterFirstUser",
}
A7ZIP = "00000000-0000-4000-8000-0000000000a1"
AVPN = "00000000-0000-4000-8000-0000000000a2"
CP1 = "00000000-0000-4000-8000-0000000000a3"
CP2 = "00000000-0000-4000-8000-0000000000a4"
APPS = {A7ZIP: "7-Zip", AVPN: "Contoso VPN Client", CP1: "Company Portal", CP2: "Company Portal"}
TAGS = {"0": "Default", "1": "Site-Paris"}
GROUPS = {"11111111-1111-1111-1111-111111111111": "Autopilot devices"}

# Real Graph shapes: a fresh tenant's default ESP as reported by a field observation carries the non-default type, the
# emulator's carries the default type; a custom ESP; a device limit configuration.
DEFAULT_FIELD = {"@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
                 "id": "636b62ee-ef57-4f54-a1f3-0046fafc9c11_DefaultWindows10EnrollmentCompletionPageConfiguration",
                 "displayName": "All users and all devices", "priority": 0,
                 "deviceEnrollmentConfigurationType": "windows10EnrollmentCompletionPageConfiguration",
                 "showInstallationProgress": False, "installProgressTimeoutInMinutes": 0,
                 "blockDeviceSetupRetryByUser": True}
DEFAULT_TYPED = {"@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration", "id": "t_x",
                 "deviceEnrollmentConfigurationType": "defaultWindows10EnrollmentCompletionPageConfiguration"}
CUSTOM = {"@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
          "id": "0b8f_Windows10EnrollmentCompletionPageConfiguration", "displayName": "Existing",
          "deviceEnrollmentConfigurationType": "windows10EnrollmentCompletionPageConfiguration", "priority": 1,
          "showInstallationProgress": True, "blockDeviceSetupRetryByUser": False, "selectedMobileAppIds": [],
          "roleScopeTagIds": ["0"], "installProgressTimeoutInMinutes": 60}
LIMIT = {"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", "id": "t_DefaultLimit",
         "deviceEnrollmentConfigurationType": "defaultLimit", "limit": 5}


class FakeGraph(object):
    """Enrollment configurations with their assignments, apps, scope tags and groups; records every call.
    ``assign`` replaces the assignments with the set sent, unless ``appends`` (a service that added to them)."""

    def __init__(self, configs=(DEFAULT_FIELD, LIMIT), appends=False):
        self.configs = dict((c["id"], copy.deepcopy(c)) for c in configs)
        self.assignments = dict((c["id"], []) for c in configs)
        self.appends = appends
        self.calls = []

    def list(self, path, api="beta", params=None, headers=None):
        self.calls.append(("GET", path, params))
        if path == PATH:
            return copy.deepcopy(list(self.configs.values()))
        if path.endswith("/assignments"):
            return copy.deepcopy(self.assignments[path.split("/")[-2]])
        if path == "/deviceAppManagement/mobileApps":
            return [{"id": k, "displayName": v, "@odata.type": "#microsoft.graph.win32LobApp"} for k, v in APPS.items()]
        if path == "/deviceManagement/roleScopeTags":
            return [{"id": k, "displayName": v} for k, v in TAGS.items()]
        if path == "/deviceManagement/assignmentFilters":
            return []
        if path == "/groups":
            name = re.match(r"displayName eq '(.*)'$", params["$filter"]).group(1)
            return [{"id": k, "displayName": v} for k, v in GROUPS.items() if v.lower() == name.lower()]
        raise AssertionError("unexpected list %s" % path)

    def get_or_none(self, path, api="beta", params=None, headers=None):
        self.calls.append(("GET", path, params))
        return copy.deepcopy(self.configs.get(path.rsplit("/", 1)[-1]))

    get = get_or_none

    def post(self, path, json=None, api="beta", headers=None, probe=None):
        self.calls.append(("POST", path, copy.deepcopy(json)))
        if path == PATH:
            obj = dict(json, id="new%d_Windows10EnrollmentCompletionPageConfiguration" % len(self.configs))
            obj["priority"] = len([c for c in self.configs.values() if esp.is_custom_esp(c)]) + 1
            self.configs[obj["id"]], self.assignments[obj["id"]] = obj, []
            return copy.deepcopy(obj)
        config_id = path.split("/")[-2]
        if path.endswith("/assign"):
            sent = [dict(a, id="a%d" % i) for i, a in enumerate(json["enrollmentConfigurationAssignments"])]
            self.assignments[config_id] = self.assignments[config_id] + sent if self.appends else sent
        elif path.endswith("/setPriority"):
            self.configs[config_id]["priority"] = json["priority"]
        return None

    def patch(self, path, json, api="beta", headers=None):
        self.calls.append(("PATCH", path, copy.deepcopy(json)))
        self.configs[path.rsplit("/", 1)[-1]].update(dict((k, v) for k, v in json.items() if k != "@odata.type"))

    def delete(self, path, api="beta", headers=None, missing_ok=True):
        self.calls.append(("DELETE", path, None))
        return self.configs.pop(path.rsplit("/", 1)[-1], None) is not None

    def writes(self):
        return [c for c in self.calls if c[0] != "GET"]

    def reads_of(self, path):
        return len([c for c in self.calls if c[0] == "GET" and c[1] == path])


class FakeModule(object):
    def __init__(self, client, check_mode=False, **params):
        self.client = client
        self.check_mode = check_mode
        self.params = dict((k, None) for k in argument_spec())
        self.params.update(state="present", check_mode_missing="fail")
        self.params.update(params)
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


def context(graph, check_mode=False, **params):
    module = FakeModule(graph, check_mode=check_mode, **params)
    return Context(module, esp.resource(include_default=bool(params.get("default"))))


def run(graph, check_mode=False, **params):
    """What the module's main() does: (result, warnings)."""
    ctx = context(graph, check_mode=check_mode, **params)
    return ensure(ctx), ctx.module.warnings


def full(**changes):
    args = dict(display_name="Autopilot ESP", show_installation_progress=True, block_device_setup_retry_by_user=False,
                install_progress_timeout_in_minutes=60, custom_error_message="Call 1234",
                allow_log_collection_on_install_failure=True, track_install_progress_for_autopilot_only=True,
                disable_user_status_tracking_after_first_user=True, install_quality_updates=True,
                allow_device_reset_on_install_failure=True, allow_device_use_on_install_failure=True,
                allow_non_blocking_app_installation=True, selected_apps=["7-Zip"])
    args.update(changes)
    return args


def refused(graph, **params):
    with pytest.raises(EngineError) as err:
        run(graph, **params)
    assert graph.writes() == [], "refused before any write"
    return err.value


# ------------------------------------------------------------------ the declaration

def test_every_option_maps_to_its_graph_property():
    props = dict((p.option, p.prop) for p in esp.PROPS)
    # snake_case of the Graph name, except the lists given by name and the natural key
    renamed = {"selected_apps": "selectedMobileAppIds", "scope_tags": "roleScopeTagIds", "display_name": "displayName"}
    for option, prop in props.items():
        if option in renamed:
            assert prop == renamed[option]
        else:
            camel = option.split("_")[0] + "".join(w.capitalize() for w in option.split("_")[1:])
            assert prop == camel, option
    assert set(props.values()) == GRAPH_PROPERTIES
    assert set(props) <= set(argument_spec())


def test_priority_is_written_by_set_priority_and_lists_are_resolved_sets():
    props = dict((p.option, p) for p in esp.PROPS)
    assert props["priority"].writer is esp.set_priority
    assert (props["selected_apps"].kind, props["selected_apps"].resolve) == ("set", "app")
    assert (props["scope_tags"].kind, props["scope_tags"].resolve) == ("set", "scope tag")
    assert esp.resource().odata_type == "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration"
    assert [r.name for r in esp.resource().relationships] == ["assignments"]
    assert esp.resource(include_default=True).relationships == []


def test_default_and_custom_esp_detection():
    assert esp.is_default(DEFAULT_FIELD) and esp.is_default(DEFAULT_TYPED)
    assert esp.is_esp(DEFAULT_FIELD) and esp.is_esp(CUSTOM) and not esp.is_esp(LIMIT)
    assert esp.is_custom_esp(CUSTOM)
    assert not esp.is_custom_esp(DEFAULT_FIELD) and not esp.is_custom_esp(DEFAULT_TYPED) and not esp.is_custom_esp(LIMIT)
    assert esp.resource().match is esp.is_custom_esp
    assert esp.resource(include_default=True).match is esp.is_esp


# ------------------------------------------------------------------ names: resolved once, ids written, names shown

def test_apps_and_scope_tags_are_written_as_ids_and_shown_by_name():
    graph = FakeGraph()
    result, warnings = run(graph, **full(selected_apps=["Contoso VPN Client", "7-Zip", A7ZIP], scope_tags=["Site-Paris", "0"]))
    [(method, path, body)] = graph.writes()
    assert (method, path) == ("POST", PATH)
    assert body["selectedMobileAppIds"] == [AVPN, A7ZIP] and body["roleScopeTagIds"] == ["1", "0"]
    assert result["diff"]["after"]["selectedMobileAppIds"] == ["7-Zip", "Contoso VPN Client"]
    assert result["diff"]["after"]["roleScopeTagIds"] == ["Default", "Site-Paris"]
    assert result["esp"]["selectedMobileAppIds"] == [AVPN, A7ZIP], "the object as Graph returns it"
    assert warnings == []
    # the same apps by name, in another order: no change, no write
    graph.calls = []
    again, _warnings = run(graph, **full(selected_apps=["7-Zip", "Contoso VPN Client"], scope_tags=["Default", "Site-Paris"]))
    assert again["changed"] is False and graph.writes() == []
    assert again["diff"]["before"] == again["diff"]["after"]
    assert again["diff"]["before"]["selectedMobileAppIds"] == ["7-Zip", "Contoso VPN Client"]


def test_one_read_of_the_collection_per_run():
    """The ESP is found, the priority range counted and the default found from one list of the configurations."""
    graph = FakeGraph([DEFAULT_FIELD, LIMIT, CUSTOM])
    run(graph, display_name="Existing", priority=1, show_installation_progress=True)
    assert graph.reads_of(PATH) == 1
    graph = FakeGraph()
    run(graph, default=True, show_installation_progress=True)
    assert graph.reads_of(PATH) == 1


# ------------------------------------------------------------------ refused: what Graph refuses or what never converges

def test_a_full_valid_set_passes_without_warning():
    graph = FakeGraph()
    result, warnings = run(graph, **full())
    assert result["changed"] and warnings == []


@pytest.mark.parametrize("value", [-1, -60])
def test_a_negative_timeout_is_refused(value):
    error = refused(FakeGraph(), **full(install_progress_timeout_in_minutes=value))
    assert error.msg == "install_progress_timeout_in_minutes: a number of minutes cannot be negative (got %d)." % value


def test_message_length_limit():
    run(FakeGraph(), **full(custom_error_message="x" * 10000))
    error = refused(FakeGraph(), **full(custom_error_message="x" * 10001))
    assert error.msg == "custom_error_message: at most 10000 characters are allowed (got 10001)."


def test_at_most_100_apps(monkeypatch):
    many = dict(("app-%d" % i, "app %d" % i) for i in range(101))
    monkeypatch.setitem(globals(), "APPS", many)
    run(FakeGraph(), **full(selected_apps=["app %d" % i for i in range(100)]))
    error = refused(FakeGraph(), **full(selected_apps=["app %d" % i for i in range(101)]))
    assert error.msg == "selected_apps: at most 100 apps are allowed (got 101)."


def test_an_empty_app_entry_and_unknown_or_ambiguous_apps_are_named():
    error = refused(FakeGraph(), **full(selected_apps=["7-Zip", " ", "No such app", "Company Portal"]))
    assert error.extra["problems"] == [
        "selected_apps[1]: the entry is empty; give the app's display name or id.",
        "selected_apps[2]: no app named 'No such app' was found.",
        "selected_apps[3]: 2 apps are named 'Company Portal' (win32LobApp %s, win32LobApp %s); use the id of the one you "
        "mean." % (CP1, CP2),
    ]


def test_priority_and_scope_tags_input():
    assert refused(FakeGraph(), display_name="x", priority=0).msg == "priority: must be 1 or greater (1 is the highest), got 0."
    assert refused(FakeGraph(), display_name="x", scope_tags=[]).msg.startswith("scope_tags: give at least one")


@pytest.mark.parametrize("name, priority, ok", [
    ("new one", 3, True), ("new one", 4, False),          # two custom ESPs exist; a new one becomes the third
    ("Existing", 2, True), ("existing", 3, False),         # an existing one stays within 1..2 (found without case)
])
def test_priority_range(name, priority, ok):
    other = dict(CUSTOM, id="other_Windows10EnrollmentCompletionPageConfiguration", displayName="Other", priority=2)
    graph = FakeGraph([DEFAULT_FIELD, LIMIT, CUSTOM, other])
    if ok:
        run(graph, display_name=name, priority=priority)
    else:
        assert refused(graph, display_name=name, priority=priority).msg.startswith(
            "priority: %d is past the last position" % priority)


def test_every_problem_at_once_before_any_write():
    """Option problems and names that do not resolve, in one failure, each in the user's terms (issue 15)."""
    graph = FakeGraph()
    error = refused(graph, **full(custom_error_message="x" * 10001, selected_apps=["Nope"], priority=5,
                                  assignments=[{"group": "Autopilot devices"}, {"group": "Missing group"},
                                               {"all_devices": True, "all_users": True}]))
    assert error.extra["problems"] == [
        "selected_apps[0]: no app named 'Nope' was found.",
        "assignments[1].group: no group named 'Missing group' was found.",
        "assignments[2]: set exactly one of group, all_devices or all_users (got all_devices, all_users).",
        "custom_error_message: at most 10000 characters are allowed (got 10001).",
        "priority: 5 is past the last position; there is 1 ESP profile (the default ESP is not counted), so the "
        "priority must be between 1 and 1.",
    ]
    assert error.msg.startswith("5 problems, found before any change: (1) selected_apps[0]: ")


def test_default_esp_rules():
    error = refused(FakeGraph(), default=True, state="absent", priority=1, scope_tags=["Default"])
    assert error.extra["problems"] == [
        "state: the default ESP cannot be deleted; only its settings can be changed.",
        "priority, scope_tags: not allowed with default=true; the default ESP's name, description, priority, scope tags "
        "and assignments belong to the service. Only its settings can be managed.",
    ]
    assert refused(FakeGraph(), display_name="x", default=False).msg.startswith("default: only true")
    assert "use default=true" in refused(FakeGraph(), id=DEFAULT_FIELD["id"], show_installation_progress=True).msg
    assert refused(FakeGraph()).msg.startswith("display_name: one of display_name, id or default=true")


def test_absent_skips_setting_checks():
    graph = FakeGraph([DEFAULT_FIELD, CUSTOM])
    result, _warnings = run(graph, display_name="Existing", state="absent", install_progress_timeout_in_minutes=-1)
    assert result["changed"] and [w[0] for w in graph.writes()] == ["DELETE"]


# ------------------------------------------------------------------ the portal's rules: warnings, never refusals

@pytest.mark.parametrize("option,value", [
    ("install_progress_timeout_in_minutes", 60),
    ("custom_error_message", "hello"),
    ("allow_log_collection_on_install_failure", True),
    ("track_install_progress_for_autopilot_only", True),
    ("disable_user_status_tracking_after_first_user", True),
    ("install_quality_updates", True),
    ("block_device_setup_retry_by_user", False),
])
@pytest.mark.parametrize("progress", [None, False])
def test_settings_behind_show_progress_warn_and_are_written(option, value, progress):
    graph = FakeGraph()
    result, warnings = run(graph, display_name="x", show_installation_progress=progress, **{option: value})
    prop = dict((p.option, p.prop) for p in esp.PROPS)[option]
    assert result["changed"] and graph.writes()[0][2][prop] == value
    assert len(warnings) == 1 and warnings[0].startswith(
        "%s: the portal offers this setting only when 'Show app and profile configuration progress' is Yes "
        "(show_installation_progress: true). Graph accepts the combination" % option)
    _result, warnings = run(FakeGraph(), display_name="x", show_installation_progress=True, **{option: value})
    assert warnings == []


@pytest.mark.parametrize("option,off", [
    ("allow_log_collection_on_install_failure", False),
    ("install_quality_updates", False),
    ("block_device_setup_retry_by_user", True),    # portal "Block device use": No
    ("allow_device_reset_on_install_failure", False),
])
def test_off_values_never_warn(option, off):
    _result, warnings = run(FakeGraph(), display_name="x", show_installation_progress=False, **{option: off})
    assert warnings == []


@pytest.mark.parametrize("option,value", [
    ("allow_device_reset_on_install_failure", True),
    ("allow_device_use_on_install_failure", True),
    ("selected_apps", []),
    ("selected_apps", ["7-Zip"]),
])
@pytest.mark.parametrize("blocking", [None, True])
def test_settings_behind_block_device_use_warn(option, value, blocking):
    _result, warnings = run(FakeGraph(), display_name="x", show_installation_progress=True,
                            block_device_setup_retry_by_user=blocking, **{option: value})
    assert len(warnings) == 1 and warnings[0].startswith(
        "%s: the portal offers this setting only when 'Block device use until all apps and profiles are installed' is "
        "Yes (block_device_setup_retry_by_user: false)." % option)
    _result, warnings = run(FakeGraph(), display_name="x", show_installation_progress=True,
                            block_device_setup_retry_by_user=False, **{option: value})
    assert warnings == []


def test_the_warning_names_every_engaged_option():
    _result, warnings = run(FakeGraph(), display_name="x", install_progress_timeout_in_minutes=5,
                            allow_device_use_on_install_failure=True)
    assert warnings[0].startswith("install_progress_timeout_in_minutes, allow_device_use_on_install_failure: the portal "
                                  "offers these settings only when 'Show app and profile")


@pytest.mark.parametrize("parents, warned", [
    ({"showInstallationProgress": True, "blockDeviceSetupRetryByUser": False}, False),
    ({"showInstallationProgress": True, "blockDeviceSetupRetryByUser": True}, True),
    ({"showInstallationProgress": False, "blockDeviceSetupRetryByUser": False}, True),
])
def test_a_parent_setting_left_out_counts_with_its_current_value(parents, warned):
    """Changing only a dependent setting of an ESP whose parent settings are already on needs no restating."""
    graph = FakeGraph([DEFAULT_FIELD, dict(CUSTOM, **parents)])
    result, warnings = run(graph, display_name="Existing", install_progress_timeout_in_minutes=120,
                           allow_device_use_on_install_failure=True)
    assert result["changed"] and bool(warnings) is warned
    assert [w[0] for w in graph.writes()] == ["PATCH"]


def test_technician_phase_without_blocking_apps_warns():
    _result, warnings = run(FakeGraph(), **full(selected_apps=[]))
    assert warnings == ["allow_non_blocking_app_installation: the portal offers 'Only fail selected blocking apps in "
                        "technician phase' only when blocking apps are selected (selected_apps); Graph accepts it "
                        "without them."]
    _result, warnings = run(FakeGraph(), **full(selected_apps=[], allow_non_blocking_app_installation=False))
    assert warnings == []


# ------------------------------------------------------------------ adopted as real tenants hold them (issue 13)

def test_an_esp_the_portal_could_not_show_is_adopted_without_change_or_warning():
    """Field case: allowNonBlockingAppInstallation true, no blocking apps and progress hidden."""
    held = dict(CUSTOM, showInstallationProgress=False, blockDeviceSetupRetryByUser=True, selectedMobileAppIds=[],
                allowNonBlockingAppInstallation=True, allowDeviceUseOnInstallFailure=True)
    graph = FakeGraph([DEFAULT_FIELD, held])
    result, warnings = run(graph, display_name="Existing", show_installation_progress=False,
                           block_device_setup_retry_by_user=True, selected_apps=[],
                           allow_non_blocking_app_installation=True, allow_device_use_on_install_failure=True)
    assert result["changed"] is False and graph.writes() == [] and warnings == []


def test_the_default_esp_as_real_tenants_hold_it_is_adopted():
    """Field case: the default ESP with installProgressTimeoutInMinutes 0 while progress is hidden."""
    graph = FakeGraph()
    result, warnings = run(graph, default=True, show_installation_progress=False, install_progress_timeout_in_minutes=0,
                           block_device_setup_retry_by_user=True)
    assert result["changed"] is False and graph.writes() == [] and warnings == []


# ------------------------------------------------------------------ the default ESP

def test_default_mode_finds_the_one_default():
    graph = FakeGraph([LIMIT, CUSTOM, DEFAULT_FIELD])
    result, _warnings = run(graph, default=True, show_installation_progress=True)
    assert [(w[0], w[1]) for w in graph.writes()] == [("PATCH", "%s/%s" % (PATH, DEFAULT_FIELD["id"]))]
    assert result["esp"]["id"] == DEFAULT_FIELD["id"]
    assert refused(FakeGraph([LIMIT, CUSTOM]), default=True).msg.startswith(
        "default: expected one built-in default ESP, found 0")


def test_the_default_esp_is_never_found_by_its_name():
    graph = FakeGraph()
    result, _warnings = run(graph, check_mode=True, display_name=DEFAULT_FIELD["displayName"])
    assert result["changed"] and "id" not in result["esp"]


# ------------------------------------------------------------------ writes

def test_assign_sends_one_complete_set():
    graph = FakeGraph()
    ctx = context(graph, display_name="x")
    wanted = {("group", "g1"): ("f1", "include"), ("exclude", "g2"): (None, "none"), ("all_users", None): (None, "none")}
    graph.assignments["e1"] = []
    esp.Assignments().apply(ctx, {"id": "e1", "displayName": "x"}, wanted, {})
    base = "%s/e1" % PATH
    assert [c[:2] for c in graph.calls] == [("POST", base + "/assign"), ("GET", base + "/assignments")]
    items = graph.calls[0][2]["enrollmentConfigurationAssignments"]
    assert all(i["@odata.type"] == "#microsoft.graph.enrollmentConfigurationAssignment" for i in items)
    targets = dict((i["target"]["@odata.type"], i["target"]) for i in items)
    assert targets["#microsoft.graph.groupAssignmentTarget"] == {
        "@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "g1",
        "deviceAndAppManagementAssignmentFilterId": "f1", "deviceAndAppManagementAssignmentFilterType": "include"}
    assert targets["#microsoft.graph.exclusionGroupAssignmentTarget"] == {
        "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", "groupId": "g2"}
    assert "#microsoft.graph.allLicensedUsersAssignmentTarget" in targets


@pytest.mark.parametrize("appends", [True, False])
def test_an_assign_that_did_not_replace_the_set_is_reported(appends):
    """The assign page does not say "replace"; if the service added the set to the old one, the module warns."""
    graph = FakeGraph(appends=appends)
    old = {"id": "old", "target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "g9"}}
    graph.assignments["e1"] = [old]
    ctx = context(graph, display_name="x")
    esp.Assignments().apply(ctx, {"id": "e1", "displayName": "x"}, {("group", "g1"): (None, "none")},
                            {("group", "g9"): (None, "none")})
    if appends:
        assert len(ctx.module.warnings) == 1
        assert ctx.module.warnings[0].startswith("After the assign action Intune reports the assignments of esp 'x' as ")
    else:
        assert ctx.module.warnings == []


def test_set_priority_only_when_it_differs():
    graph = FakeGraph([CUSTOM])
    ctx = context(graph, display_name="x")
    esp.set_priority(ctx, {"id": CUSTOM["id"], "priority": 2}, 2)
    assert graph.calls == []
    esp.set_priority(ctx, {"id": CUSTOM["id"], "priority": 2}, 1)
    assert graph.calls == [("POST", "%s/%s/setPriority" % (PATH, CUSTOM["id"]), {"priority": 1})]


def test_a_scope_tag_that_does_not_resolve_is_one_problem():
    error = refused(FakeGraph(), display_name="x", scope_tags=["Nope"])
    assert error.extra["problems"] == ["scope_tags[0]: no scope tag named 'Nope' was found."]

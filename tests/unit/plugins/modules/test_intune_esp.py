# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""intune_esp's pure parts: option -> Graph property mapping, input validation, the portal's dependencies,
default-ESP detection, the assign body and the priority range. No network."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import EngineError
from ansible_collections.intune.autopilot.plugins.modules import intune_esp as esp

# Graph property names from api-reference/beta/resources/intune-onboarding-windows10enrollmentcompletionpageconfiguration.md
GRAPH_PROPERTIES = {
    "displayName", "description", "priority", "roleScopeTagIds", "showInstallationProgress",
    "blockDeviceSetupRetryByUser", "allowDeviceResetOnInstallFailure", "allowLogCollectionOnInstallFailure",
    "customErrorMessage", "installProgressTimeoutInMinutes", "allowDeviceUseOnInstallFailure", "selectedMobileAppIds",
    "allowNonBlockingAppInstallation", "installQualityUpdates", "trackInstallProgressForAutopilotOnly",
    "disableUserStatusTrackingAfterFirstUser",
}


def params(**kwargs):
    base = dict((k, None) for k in esp.argument_spec())
    base["state"] = "present"
    base.update(kwargs)
    return base


def full():
    return params(display_name="Autopilot ESP", show_installation_progress=True, block_device_setup_retry_by_user=False,
                  install_progress_timeout_in_minutes=60, custom_error_message="Call 1234",
                  allow_log_collection_on_install_failure=True, track_install_progress_for_autopilot_only=True,
                  disable_user_status_tracking_after_first_user=True, install_quality_updates=True,
                  allow_device_reset_on_install_failure=True, allow_device_use_on_install_failure=True,
                  allow_non_blocking_app_installation=True, selected_apps=["7-Zip"])


def test_every_option_maps_to_its_graph_property():
    props = dict((p.option, p.prop) for p in esp.resource().props)
    # snake_case of the Graph name, except the lists given by name and the natural key
    renamed = {"selected_apps": "selectedMobileAppIds", "scope_tags": "roleScopeTagIds", "display_name": "displayName"}
    for option, prop in props.items():
        if option in renamed:
            assert prop == renamed[option]
        else:
            camel = option.split("_")[0] + "".join(w.capitalize() for w in option.split("_")[1:])
            assert prop == camel, option
    assert set(props.values()) == GRAPH_PROPERTIES
    assert set(esp.SETTINGS) <= set(props)


def test_priority_is_written_by_set_priority_and_lists_are_sets():
    props = dict((p.option, p) for p in esp.resource().props)
    assert props["priority"].writer is esp.set_priority
    assert props["selected_apps"].kind == "set" and props["scope_tags"].kind == "set"
    assert esp.resource().odata_type == "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration"
    assert [r.name for r in esp.resource().relationships] == ["assignments"]
    assert esp.resource(default=True).relationships == []


def test_a_full_valid_set_passes():
    esp.validate_all(full())


@pytest.mark.parametrize("value", [0, -1, -60])
def test_timeout_must_be_positive(value):
    with pytest.raises(EngineError, match=r"^install_progress_timeout_in_minutes: .*at least 1"):
        esp.validate_all(dict(full(), install_progress_timeout_in_minutes=value))


def test_message_length_limit():
    esp.validate_all(dict(full(), custom_error_message="x" * 10000))
    with pytest.raises(EngineError, match=r"^custom_error_message: at most 10000 characters .*got 10001"):
        esp.validate_all(dict(full(), custom_error_message="x" * 10001))


def test_at_most_100_apps():
    esp.validate_all(dict(full(), selected_apps=["app %d" % i for i in range(100)]))
    with pytest.raises(EngineError, match=r"^selected_apps: at most 100"):
        esp.validate_all(dict(full(), selected_apps=["app %d" % i for i in range(101)]))
    with pytest.raises(EngineError, match=r"^selected_apps: an entry is empty"):
        esp.validate_all(dict(full(), selected_apps=["7-Zip", " "]))


def test_priority_and_scope_tags_input():
    with pytest.raises(EngineError, match=r"^priority: must be 1 or greater"):
        esp.validate_all(params(display_name="x", priority=0))
    with pytest.raises(EngineError, match=r"^scope_tags: give at least one"):
        esp.validate_all(params(display_name="x", scope_tags=[]))


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
def test_settings_behind_show_progress(option, value, progress):
    with pytest.raises(EngineError, match=r"^%s: the portal offers this setting only when 'Show app and profile" % option):
        esp.validate_all(params(display_name="x", show_installation_progress=progress, **{option: value}))
    esp.validate_all(params(display_name="x", show_installation_progress=True, **{option: value}))


@pytest.mark.parametrize("option,off", [
    ("allow_log_collection_on_install_failure", False),
    ("install_quality_updates", False),
    ("block_device_setup_retry_by_user", True),    # portal "Block device use": No
    ("allow_device_reset_on_install_failure", False),
])
def test_off_values_are_always_allowed(option, off):
    esp.validate_all(params(display_name="x", show_installation_progress=False, **{option: off}))


@pytest.mark.parametrize("option,value", [
    ("allow_device_reset_on_install_failure", True),
    ("allow_device_use_on_install_failure", True),
    ("selected_apps", []),
    ("selected_apps", ["7-Zip"]),
])
@pytest.mark.parametrize("blocking", [None, True])
def test_settings_behind_block_device_use(option, value, blocking):
    with pytest.raises(EngineError, match=r"^%s: the portal offers this setting only when 'Block device use" % option):
        esp.validate_all(params(display_name="x", show_installation_progress=True, block_device_setup_retry_by_user=blocking,
                                **{option: value}))
    esp.validate_all(params(display_name="x", show_installation_progress=True, block_device_setup_retry_by_user=False,
                            **{option: value}))


def test_the_message_names_every_engaged_option():
    with pytest.raises(EngineError) as info:
        esp.validate_all(params(display_name="x", install_progress_timeout_in_minutes=5, allow_device_use_on_install_failure=True))
    assert "these settings (install_progress_timeout_in_minutes, block_device_setup_retry_by_user" not in info.value.msg
    assert "install_progress_timeout_in_minutes, allow_device_use_on_install_failure" in info.value.msg


@pytest.mark.parametrize("current, refused", [
    ({"showInstallationProgress": True, "blockDeviceSetupRetryByUser": False}, False),
    ({"showInstallationProgress": True, "blockDeviceSetupRetryByUser": True}, True),
    ({"showInstallationProgress": False, "blockDeviceSetupRetryByUser": False}, True),
    (None, True),
])
def test_a_parent_setting_left_out_counts_with_its_current_value(current, refused):
    """Changing only a dependent setting of an ESP whose parent settings are already on needs no restating."""
    wanted = params(display_name="x", install_progress_timeout_in_minutes=120, allow_device_use_on_install_failure=True)
    if refused:
        with pytest.raises(EngineError):
            esp.validate_all(wanted, current)
    else:
        esp.validate_all(wanted, current)
    # A parent setting the task gives wins over the current value.
    with pytest.raises(EngineError, match="show_installation_progress: true"):
        esp.validate_all(dict(wanted, show_installation_progress=False), current)


def test_technician_phase_needs_selected_apps():
    base = dict(full(), selected_apps=[])
    with pytest.raises(EngineError, match=r"^allow_non_blocking_app_installation: .*selected_apps"):
        esp.validate_all(base)
    esp.validate_all(dict(base, allow_non_blocking_app_installation=False))


def test_default_esp_rules():
    esp.validate_all(params(default=True, show_installation_progress=True, install_progress_timeout_in_minutes=30))
    for option, value in (("priority", 1), ("assignments", []), ("scope_tags", ["Default"]), ("description", "d")):
        with pytest.raises(EngineError, match=r"^%s: not allowed with default=true" % option):
            esp.validate_all(params(default=True, **{option: value}))
    with pytest.raises(EngineError, match=r"^state: the default ESP cannot be deleted"):
        esp.validate_all(params(default=True, state="absent"))
    with pytest.raises(EngineError, match=r"^default: only true"):
        esp.validate_all(params(display_name="x", default=False))
    with pytest.raises(EngineError, match=r"^id: .* is the built-in default ESP; use default=true"):
        esp.validate_all(params(id="6b2a_DefaultWindows10EnrollmentCompletionPageConfiguration"))
    with pytest.raises(EngineError, match=r"^display_name: one of display_name, id or default=true"):
        esp.validate_all(params())


def test_absent_skips_setting_checks():
    esp.validate_all(params(display_name="x", state="absent", install_progress_timeout_in_minutes=0))


# Real Graph shapes: a fresh tenant's default ESP as reported by a field observation (graph-api.md 1.6) carries the
# non-default type, the emulator's carries the default type; a custom ESP; a device limit configuration.
DEFAULT_FIELD = {"@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
                 "id": "636b62ee-ef57-4f54-a1f3-0046fafc9c11_DefaultWindows10EnrollmentCompletionPageConfiguration",
                 "deviceEnrollmentConfigurationType": "windows10EnrollmentCompletionPageConfiguration", "priority": 0}
DEFAULT_TYPED = {"@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration", "id": "t_x",
                 "deviceEnrollmentConfigurationType": "defaultWindows10EnrollmentCompletionPageConfiguration"}
CUSTOM = {"@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
          "id": "0b8f_Windows10EnrollmentCompletionPageConfiguration",
          "deviceEnrollmentConfigurationType": "windows10EnrollmentCompletionPageConfiguration", "priority": 1}
LIMIT = {"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", "id": "t_DefaultLimit",
         "deviceEnrollmentConfigurationType": "defaultLimit", "limit": 5}


def test_default_and_custom_esp_detection():
    assert esp.is_default(DEFAULT_FIELD) and esp.is_default(DEFAULT_TYPED)
    assert esp.is_esp(DEFAULT_FIELD) and esp.is_esp(CUSTOM) and not esp.is_esp(LIMIT)
    assert esp.is_custom_esp(CUSTOM)
    assert not esp.is_custom_esp(DEFAULT_FIELD) and not esp.is_custom_esp(DEFAULT_TYPED) and not esp.is_custom_esp(LIMIT)
    assert esp.resource().match is esp.is_custom_esp
    assert esp.resource(default=True).match is esp.is_esp


class FakeClient(object):
    """``assign`` replaces the assignments with the set sent, unless ``appends`` (a service that added to them)."""

    def __init__(self, items=(), appends=False):
        self.items = list(items)
        self.appends = appends
        self.calls = []

    def list(self, path, api="beta", params=None, headers=None):
        self.calls.append(("GET", path))
        return list(self.items)

    def post(self, path, json=None, api="beta", headers=None, probe=None):
        self.calls.append(("POST", path, json))
        if path.endswith("/assign"):
            sent = [dict(a, id="a%d" % i) for i, a in enumerate(json["enrollmentConfigurationAssignments"])]
            self.items = self.items + sent if self.appends else sent

    def get_or_none(self, path, api="beta", params=None, headers=None):
        return None


class FakeModule(object):
    check_mode = False

    def __init__(self, client, **kwargs):
        self.client = client
        self.params = params(**kwargs)
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


def context(client, **kwargs):
    from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import Context
    return Context(FakeModule(client, **kwargs), esp.resource())


def test_assign_sends_one_complete_set():
    client = FakeClient()
    ctx = context(client, display_name="x")
    wanted = {("group", "g1"): ("f1", "include"), ("exclude", "g2"): (None, "none"), ("all_users", None): (None, "none")}
    esp.Assignments().apply(ctx, {"id": "e1", "displayName": "x"}, wanted, {})
    base = "/deviceManagement/deviceEnrollmentConfigurations/e1"
    assert [c[:2] for c in client.calls] == [("POST", base + "/assign"), ("GET", base + "/assignments")]
    method, path, body = client.calls[0]
    assert (method, path) == ("POST", "/deviceManagement/deviceEnrollmentConfigurations/e1/assign")
    items = body["enrollmentConfigurationAssignments"]
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
    old = {"id": "old", "target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "g9"}}
    client = FakeClient(items=[old], appends=appends)
    ctx = context(client, display_name="x")
    esp.Assignments().apply(ctx, {"id": "e1", "displayName": "x"}, {("group", "g1"): (None, "none")},
                            {("group", "g9"): (None, "none")})
    if appends:
        assert len(ctx.module.warnings) == 1
        assert ctx.module.warnings[0].startswith("After the assign action Intune reports the assignments of esp 'x' as ")
    else:
        assert ctx.module.warnings == []


def test_set_priority_only_when_it_differs():
    client = FakeClient()
    ctx = context(client, display_name="x")
    esp.set_priority(ctx, {"id": "e1", "priority": 2}, 2)
    assert client.calls == []
    esp.set_priority(ctx, {"id": "e1", "priority": 2}, 1)
    assert client.calls == [("POST", "/deviceManagement/deviceEnrollmentConfigurations/e1/setPriority", {"priority": 1})]


@pytest.mark.parametrize("name,priority,ok", [
    ("new one", 3, True), ("new one", 4, False),          # two custom ESPs exist; a new one becomes the third
    ("Existing", 2, True), ("existing", 3, False),         # an existing one stays within 1..2 (found without case)
])
def test_priority_range(name, priority, ok):
    existing = dict(CUSTOM, displayName="Existing")
    other = dict(CUSTOM, id="other_Windows10EnrollmentCompletionPageConfiguration", displayName="Other", priority=2)
    ctx = context(FakeClient([DEFAULT_FIELD, LIMIT, existing, other]), display_name=name, priority=priority)
    if ok:
        esp.check_priority(ctx, priority)
    else:
        with pytest.raises(EngineError, match=r"^priority: %d is past the last position" % priority):
            esp.check_priority(ctx, priority)


def test_default_mode_finds_the_one_default():
    ctx = context(FakeClient([LIMIT, CUSTOM, DEFAULT_FIELD]), default=True)
    assert esp.find_default(ctx) == DEFAULT_FIELD["id"]
    with pytest.raises(EngineError, match=r"^default: expected one built-in default ESP, found 0"):
        esp.find_default(context(FakeClient([LIMIT, CUSTOM]), default=True))


def test_diff_shows_apps_and_scope_tags_by_name():
    class Names(object):
        def name(self, kind, obj_id):
            return {("app", "a1"): "Zulu", ("app", "a2"): "Alpha", ("scope tag", "0"): "Default"}[(kind, obj_id)]

    ctx = context(FakeClient(), display_name="x")
    ctx._resolver = Names()
    result = {"diff": {"before": {"selectedMobileAppIds": ["a1"], "roleScopeTagIds": ["0"]},
                       "after": {"selectedMobileAppIds": ["a1", "a2"], "installProgressTimeoutInMinutes": 5}}}
    esp.readable_diff(ctx, result)
    assert result["diff"]["before"] == {"selectedMobileAppIds": ["Zulu"], "roleScopeTagIds": ["Default"]}
    assert result["diff"]["after"] == {"selectedMobileAppIds": ["Alpha", "Zulu"], "installProgressTimeoutInMinutes": 5}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""autopilot_profile without a network: name template and locale rules, option -> Graph mapping, reading both
property generations, and the assignment reconciliation order, through the real engine and an in-memory Graph."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

import pytest

from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_names import (
    NameTemplateError, check_locale, check_name_template, name_length, parse_template)
from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import Context, EngineError, ensure
from ansible_collections.intune.autopilot.plugins.module_utils import _autopilot_profile as mod
from ansible_collections.intune.autopilot.plugins.modules.autopilot_profile import argument_spec

PROFILES = mod.PATH
GROUP_A = "11111111-1111-1111-1111-111111111111"
GROUP_B = "22222222-2222-2222-2222-222222222222"


# ------------------------------------------------------------------ name template

@pytest.mark.parametrize("template", [
    "CONTOSO-%SERIAL%",          # 8 + 1
    "ABCDEFGHIJKLMN%SERIAL%",    # 14 + 1 = 15
    "AP-%RAND:12%",              # 3 + 12 = 15
    "PC%RAND:5%",
    "%SERIAL%",
    "-%RAND:3%",                 # a hyphen makes it not all digits
    "ABCDEFGHIJKLMNO",           # 15 literal characters
    "12A",
    "",                          # no template
])
def test_template_accepted(template):
    assert check_name_template(template) is None


@pytest.mark.parametrize("template, fragment", [
    ("ABCDEFGHIJKLMNO%SERIAL%", "16 characters"),     # 15 + 1: no room left for the serial
    ("CONTOSO-LAPTOP-%SERIAL%", "16 characters"),
    ("AP-%RAND:13%", "16 characters"),
    ("ABCDEFGHIJKLMNOP", "16 characters"),
    ("12345", "all digits"),
    ("%RAND:8%", "all digits"),
    ("12%RAND:3%", "all digits"),
    ("PC %SERIAL%", "' '"),
    ("PC_%SERIAL%", "'_'"),
    ("PC.%RAND:3%", "'.'"),
    ("PC-Ü%RAND:3%", "'Ü'"),
    ("PC-%USERNAME%", "unknown macro '%USERNAME%'"),
    ("PC-%serial%", "capitals"),
    ("PC-%RAND%", "unknown macro '%RAND%'"),
    ("PC-%RAND:x%", "unknown macro"),
    ("PC-%RAND:0%", "from 1 to 15"),
    ("PC-%RAND:16%", "from 1 to 15"),
    ("PC-%SERIAL", "complete macro"),
    ("PC%-1", "complete macro"),
    ("A%SERIAL%%RAND:2%", "one macro at most"),
    ("A%SERIAL%-%SERIAL%", "one macro at most"),
])
def test_template_refused(template, fragment):
    with pytest.raises(NameTemplateError) as err:
        check_name_template(template)
    assert fragment in str(err.value)


def test_template_counting():
    assert name_length(parse_template("AB-%RAND:4%")) == 7
    assert name_length(parse_template("AB-%SERIAL%")) == 4
    assert parse_template("X%RAND:2%Y") == [("text", "X"), ("rand", 2), ("text", "Y")]


# ------------------------------------------------------------------ locale

@pytest.mark.parametrize("value", ["os-default", "OS-Default", "en-US", "de-DE", "fr", "sr-Latn-RS", "es-419", "zh-Hans"])
def test_locale_accepted(value):
    assert check_locale(value) is None


@pytest.mark.parametrize("value", ["english", "en_US", "en-USA", "e", "en-US-x", "", "default", "en US"])
def test_locale_refused(value):
    with pytest.raises(ValueError):
        check_locale(value)


# ------------------------------------------------------------------ an in-memory Graph for the engine

class FakeModule(object):
    def __init__(self, client, check_mode=False, **params):
        base = dict((k, None) for k in argument_spec())
        base.update(state="present", assignments=None)
        base.update(params)
        self.params = base
        self.check_mode = check_mode
        self.client = client
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


class FakeGraph(object):
    """Profiles, their assignments and groups; records every call."""

    def __init__(self, profiles=(), groups=None):
        self.profiles = dict((p["id"], copy.deepcopy(p)) for p in profiles)
        self.assignments = dict((p["id"], {}) for p in profiles)
        self.groups = groups or {GROUP_A: "Autopilot devices", GROUP_B: "Autopilot pilots"}
        self.calls = []

    def list(self, path, api="beta", params=None, headers=None):
        self.calls.append(("GET", path, params))
        if path == PROFILES:
            return copy.deepcopy(list(self.profiles.values()))
        if path.endswith("/assignments"):
            return copy.deepcopy(list(self.assignments[path.split("/")[-2]].values()))
        if path == "/deviceManagement/assignmentFilters":
            return [{"id": "33333333-3333-3333-3333-333333333333", "displayName": "Surface only"}]
        if path == "/groups":
            name = params["$filter"].split("'")[1]
            return [{"id": k, "displayName": v} for k, v in self.groups.items() if v.lower() == name.lower()]
        raise AssertionError("unexpected list %s" % path)

    def get_or_none(self, path, api="beta", params=None, headers=None):
        self.calls.append(("GET", path, params))
        if path.startswith("/groups/"):
            gid = path.rsplit("/", 1)[-1]
            return {"id": gid, "displayName": self.groups[gid]} if gid in self.groups else None
        return copy.deepcopy(self.profiles.get(path.rsplit("/", 1)[-1]))

    get = get_or_none

    def post(self, path, json=None, api="beta", headers=None, probe=None):
        self.calls.append(("POST", path, copy.deepcopy(json)))
        if path == PROFILES:
            obj = dict(json, id="p%d" % (len(self.profiles) + 1))
            self.profiles[obj["id"]] = obj
            self.assignments[obj["id"]] = {}
            return copy.deepcopy(obj)
        profile_id = path.split("/")[-2]
        target = json["target"]
        aid = "%s_%s" % (profile_id, target.get("groupId") or "allDevices")
        self.assignments[profile_id][aid] = {"id": aid, "target": target}
        return {"id": aid, "target": target}

    def patch(self, path, json, api="beta", headers=None):
        self.calls.append(("PATCH", path, copy.deepcopy(json)))
        self.profiles[path.rsplit("/", 1)[-1]].update(json)

    def delete(self, path, api="beta", headers=None, missing_ok=True):
        self.calls.append(("DELETE", path, None))
        parts = path.split("/")
        if parts[-2] == "assignments":
            return self.assignments[parts[-3]].pop(parts[-1], None) is not None
        assert not self.assignments[parts[-1]], "deleted while assigned"
        return self.profiles.pop(parts[-1], None) is not None

    def writes(self):
        return [c for c in self.calls if c[0] != "GET"]


def run(graph, check_mode=False, **params):
    """What the module's main() does, with the fake Graph."""
    module = FakeModule(graph, check_mode=check_mode, **params)
    return ensure(Context(module, mod.resource()))


def deprecated_profile(**extra):
    """A profile as an older service version returns it: only the deprecated names are filled in."""
    profile = {
        "@odata.type": "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile", "id": "old",
        "displayName": "Legacy", "description": "", "language": "en-US", "locale": None,
        "extractHardwareHash": True, "hardwareHashExtractionEnabled": None,
        "enableWhiteGlove": False, "preprovisioningAllowed": None, "deviceType": "windowsPc",
        "deviceNameTemplate": None, "roleScopeTagIds": ["0"],
        "outOfBoxExperienceSettings": {"hidePrivacySettings": True, "hideEULA": True, "userType": "standard",
                                       "deviceUsageType": "singleUser", "skipKeyboardSelectionPage": True,
                                       "hideEscapeLink": True},
        "outOfBoxExperienceSetting": None,
    }
    profile.update(extra)
    return profile


# ------------------------------------------------------------------ display name characters (field-reported rule)

@pytest.mark.parametrize("name, check_mode", [("User-driven Entra join - berlin", False), ("Site/Berlin #2", True)])
def test_a_new_profile_name_intune_refuses_fails_before_any_write(name, check_mode):
    graph = FakeGraph()
    with pytest.raises(EngineError) as err:
        run(graph, check_mode=check_mode, display_name=name)
    message = str(err.value)
    assert message.startswith("display_name: '%s' contains " % name) and "HTTP 500" in message
    if name.startswith("User"):
        assert "contains '-', which Intune refuses" in message and "'User driven Entra join berlin'" in message
    else:
        assert "'/' '#'" in message and "'Site Berlin 2'" in message
    assert graph.writes() == []


def test_an_existing_profile_with_such_a_name_is_still_managed():
    graph = FakeGraph(profiles=[dict(deprecated_profile(), id="p1", displayName="Legacy-Profile")])
    result = run(graph, display_name="legacy-profile", description="now described")
    assert result["changed"] and [w[0] for w in graph.writes()] == ["PATCH"]
    assert "displayName" not in graph.writes()[0][2], "found by its name: the name is not sent"


def test_a_case_only_rename_to_a_refused_name_fails_before_any_write():
    graph = FakeGraph(profiles=[dict(deprecated_profile(), id="p1", displayName="Old-Name")])
    with pytest.raises(EngineError, match="contains '-'"):
        run(graph, id="p1", display_name="old-name")
    assert graph.writes() == []


def test_renaming_by_id_to_a_refused_name_fails_before_any_write():
    graph = FakeGraph(profiles=[dict(deprecated_profile(), id="p1", displayName="Legacy")])
    with pytest.raises(EngineError) as err:
        run(graph, id="p1", display_name="Legacy - renamed")
    assert "contains '-'" in str(err.value) and graph.writes() == []


# ------------------------------------------------------------------ create

def test_check_mode_diff_of_a_create_shows_the_defaults_the_post_carries():
    graph = FakeGraph()
    result = run(graph, check_mode=True, display_name="Autopilot user driven", device_name_template="AP-%SERIAL%")
    after = result["diff"]["after"]
    assert after["displayName"] == "Autopilot user driven" and after["deviceNameTemplate"] == "AP-%SERIAL%"
    assert after["locale"] == "os-default" and after["preprovisioningAllowed"] is False
    assert after["outOfBoxExperienceSetting"] == mod.TUTORIAL_OOBE
    assert "@odata.type" not in after and graph.writes() == []
    # The real create sends exactly what the diff showed.
    run(graph, display_name="Autopilot user driven", device_name_template="AP-%SERIAL%")
    [(method, _path, body)] = graph.writes()
    assert method == "POST" and dict((k, v) for k, v in body.items() if not k.startswith("@")) == after


def test_create_sends_tutorial_defaults_and_current_names_only():
    graph = FakeGraph()
    result = run(graph, display_name="Autopilot user driven", out_of_box_experience_setting={"user_type": "administrator"})
    assert result["changed"]
    [(method, path, body)] = graph.writes()
    assert (method, path) == ("POST", PROFILES)
    assert body["@odata.type"] == "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile"
    assert body["outOfBoxExperienceSetting"] == dict(mod.TUTORIAL_OOBE, userType="administrator")
    assert body["locale"] == "os-default" and body["preprovisioningAllowed"] is False
    assert body["hardwareHashExtractionEnabled"] is False and body["deviceType"] == "windowsPc"
    for deprecated in ("language", "outOfBoxExperienceSettings", "extractHardwareHash", "enableWhiteGlove"):
        assert deprecated not in body


def test_create_in_check_mode_writes_nothing():
    graph = FakeGraph()
    result = run(graph, check_mode=True, display_name="New", assignments=[{"group": "Autopilot devices"}])
    assert result["changed"] and graph.writes() == []
    assert result["assignments"] == [{"group": "Autopilot devices"}]
    assert "id" not in result["profile"]


# ------------------------------------------------------------------ read both generations, no drift

def test_deprecated_names_do_not_show_as_drift():
    graph = FakeGraph([deprecated_profile()])
    result = run(graph, display_name="legacy", locale="EN-us", hardware_hash_extraction_enabled=True,
                 preprovisioning_allowed=False, device_name_template="",
                 out_of_box_experience_setting=dict(privacy_settings_hidden=True, eula_hidden=True,
                                                    user_type="standard", device_usage_type="singleUser",
                                                    keyboard_selection_page_skipped=True, escape_link_hidden=True))
    assert not result["changed"], result["diff"]
    assert graph.writes() == []


def test_null_locale_is_os_default():
    graph = FakeGraph([deprecated_profile(language=None, locale=None)])
    assert not run(graph, display_name="Legacy", locale="os-default")["changed"]


def test_changed_oobe_key_is_one_patch_with_current_names():
    graph = FakeGraph([deprecated_profile()])
    result = run(graph, display_name="Legacy", out_of_box_experience_setting={"escape_link_hidden": False})
    assert result["changed"]
    [(method, path, body)] = graph.writes()
    assert (method, path) == ("PATCH", PROFILES + "/old")
    assert set(body) == {"@odata.type", "outOfBoxExperienceSetting"}
    assert body["outOfBoxExperienceSetting"]["escapeLinkHidden"] is False
    # the other settings travel with it, under the current names, unchanged
    assert body["outOfBoxExperienceSetting"]["privacySettingsHidden"] is True
    assert result["diff"]["before"]["outOfBoxExperienceSetting"]["escapeLinkHidden"] is True
    assert result["diff"]["after"]["outOfBoxExperienceSetting"]["escapeLinkHidden"] is False


def test_user_type_ignored_on_shared_profiles():
    shared = deprecated_profile(outOfBoxExperienceSettings=None, outOfBoxExperienceSetting={
        "deviceUsageType": "shared", "privacySettingsHidden": True})
    prop = [p for p in mod.PROPS if p.prop == "outOfBoxExperienceSetting"][0]
    have = prop.current(shared)
    assert prop.equal({"deviceUsageType": "shared", "userType": "standard"}, have)
    assert not prop.equal({"deviceUsageType": "singleUser"}, have)


def test_omitted_options_are_untouched():
    graph = FakeGraph([deprecated_profile()])
    result = run(graph, display_name="Legacy", description="new text")
    [(method, _path, body)] = graph.writes()
    assert method == "PATCH" and set(body) == {"@odata.type", "description"}
    assert set(result["diff"]["after"]) == {"description"}


def test_hybrid_profile_with_the_same_name_is_refused_before_any_write():
    """A second profile beside a hybrid join one of the same name would be a silent duplicate (_autopilot_profile)."""
    hybrid = deprecated_profile(id="hyb", displayName="Same")
    hybrid["@odata.type"] = "#microsoft.graph.activeDirectoryWindowsAutopilotDeploymentProfile"
    graph = FakeGraph([hybrid])
    with pytest.raises(EngineError) as err:
        run(graph, display_name="same")
    assert err.value.msg.startswith("display_name: 'same' is the name of a Microsoft Entra hybrid join profile (id hyb)")
    assert graph.writes() == [] and graph.profiles["hyb"] == hybrid


def test_hybrid_profile_name_taken_by_a_rename_is_refused():
    hybrid = deprecated_profile(id="hyb", displayName="Taken")
    hybrid["@odata.type"] = "#microsoft.graph.activeDirectoryWindowsAutopilotDeploymentProfile"
    graph = FakeGraph([hybrid, deprecated_profile(id="mine")])
    with pytest.raises(EngineError) as err:
        run(graph, id="mine", display_name="Taken")
    assert "hybrid join profile (id hyb)" in err.value.msg and graph.writes() == []


def test_hybrid_profile_of_another_name_is_left_alone():
    hybrid = deprecated_profile(id="hyb", displayName="Hybrid")
    hybrid["@odata.type"] = "#microsoft.graph.activeDirectoryWindowsAutopilotDeploymentProfile"
    graph = FakeGraph([hybrid])
    run(graph, display_name="Entra")
    assert [c[0] for c in graph.writes()] == ["POST"] and graph.profiles["hyb"] == hybrid


def test_two_profiles_with_the_name_is_an_error():
    graph = FakeGraph([deprecated_profile(id="a"), deprecated_profile(id="b")])
    with pytest.raises(EngineError) as err:
        run(graph, display_name="Legacy", description="x")
    assert "a, b" in err.value.msg and graph.writes() == []


# ------------------------------------------------------------------ assignments

def assigned(graph, profile_id, *groups):
    for gid in groups:
        aid = "%s_%s" % (profile_id, gid)
        graph.assignments[profile_id][aid] = {
            "id": aid, "target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": gid,
                                  "deviceAndAppManagementAssignmentFilterId": None,
                                  "deviceAndAppManagementAssignmentFilterType": "none"}}


def test_adding_a_group_is_one_post():
    graph = FakeGraph([deprecated_profile()])
    assigned(graph, "old", GROUP_A)
    result = run(graph, display_name="Legacy", assignments=[{"group": "Autopilot devices"}, {"group": "Autopilot pilots"}])
    writes = graph.writes()
    assert [(m, p) for m, p, _b in writes] == [("POST", PROFILES + "/old/assignments")]
    assert writes[0][2]["target"]["groupId"] == GROUP_B
    assert result["diff"]["before"]["assignments"] == [{"group": "Autopilot devices"}]
    assert result["assignments"] == [{"group": "Autopilot devices"}, {"group": "Autopilot pilots"}]


def test_replacing_a_group_creates_before_it_deletes():
    graph = FakeGraph([deprecated_profile()])
    assigned(graph, "old", GROUP_A)
    run(graph, display_name="Legacy", assignments=[{"group": "Autopilot pilots"}])
    assert [(m, p) for m, p, _b in graph.writes()] == [
        ("POST", PROFILES + "/old/assignments"), ("DELETE", PROFILES + "/old/assignments/old_" + GROUP_A)]


def test_assignment_with_a_filter_is_replaced_delete_first():
    graph = FakeGraph([deprecated_profile()])
    assigned(graph, "old", GROUP_A, GROUP_B)
    graph.assignments["old"]["old_" + GROUP_A]["target"].update(
        deviceAndAppManagementAssignmentFilterId="33333333-3333-3333-3333-333333333333",
        deviceAndAppManagementAssignmentFilterType="include")
    run(graph, display_name="Legacy", assignments=[{"group": "Autopilot devices"}, {"group": "Autopilot pilots"}])
    writes = graph.writes()
    assert [(m, p) for m, p, _b in writes] == [
        ("DELETE", PROFILES + "/old/assignments/old_" + GROUP_A), ("POST", PROFILES + "/old/assignments")]
    assert writes[1][2]["target"]["deviceAndAppManagementAssignmentFilterType"] == "none"


def test_same_assignments_no_change():
    graph = FakeGraph([deprecated_profile()])
    assigned(graph, "old", GROUP_A)
    assert not run(graph, display_name="Legacy", assignments=[{"group": GROUP_A}])["changed"]


def test_absent_unassigns_then_deletes():
    graph = FakeGraph([deprecated_profile()])
    assigned(graph, "old", GROUP_A, GROUP_B)
    assert run(graph, display_name="Legacy", state="absent")["changed"]
    assert [m for m, _p, _b in graph.writes()] == ["DELETE", "DELETE", "DELETE"]
    assert graph.writes()[-1][1] == PROFILES + "/old"
    assert "old" not in graph.profiles


def test_unknown_group_fails_before_any_write():
    graph = FakeGraph([deprecated_profile()])
    with pytest.raises(EngineError) as err:
        run(graph, display_name="Legacy", description="changed", assignments=[{"group": "Nope"}])
    assert "assignments[0].group" in err.value.msg and graph.writes() == []


# ------------------------------------------------------------------ input checks before any write

@pytest.mark.parametrize("params, option", [
    (dict(device_name_template="WAY-TOO-LONG-NAME-%SERIAL%"), "device_name_template"),
    (dict(device_name_template="123456"), "device_name_template"),
    (dict(device_name_template="PC %SERIAL%"), "device_name_template"),
    (dict(device_name_template="PC-%FOO%"), "device_name_template"),
    (dict(locale="english"), "locale"),
    (dict(assignments=[{"group": "x", "filter": "f"}]), "assignments[0]"),
    (dict(assignments=[{"all_users": True}]), "assignments[0]"),
    (dict(display_name="x" * 201), "display_name"),
])
def test_bad_input_names_the_option_and_writes_nothing(params, option):
    """Checked after the one read (a value the profile already holds is never refused), before any write."""
    graph = FakeGraph()
    with pytest.raises(EngineError) as err:
        run(graph, **dict(dict(display_name="P"), **params))
    assert err.value.msg.startswith(option + ":"), err.value.msg
    assert graph.writes() == []


def test_an_id_that_does_not_exist_and_no_name_is_a_problem_not_a_crash():
    graph = FakeGraph()
    with pytest.raises(EngineError) as err:
        run(graph, display_name=None, id="00000000-0000-0000-0000-000000000009")
    assert err.value.msg == "display_name: a name of 1 to 200 characters is required (got 0)."
    assert graph.writes() == []

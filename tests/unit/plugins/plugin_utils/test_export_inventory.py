# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The export's model and files without a network: what is a site, which ESP and group the role manages, what goes
into EXPORT.md, and that the YAML reads back (with Ansible's own loader) to the values taken from the tenant.

Inputs are shaped as the ``_info`` modules return them (Graph objects plus ``assignments`` by name)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import subprocess
import sys

import pytest

from ansible_collections.intune.autopilot.plugins.plugin_utils._export_inventory import ExportError, Tenant
from ansible_collections.intune.autopilot.plugins.plugin_utils._export_render import export_files

ALL_RULE = '(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))'
ENTRA = "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile"
HYBRID = "#microsoft.graph.activeDirectoryWindowsAutopilotDeploymentProfile"


def tag_rule(tag):
    return '(device.devicePhysicalIds -any (_ -eq "[OrderID]:%s"))' % tag


def group(name, rule, gid=None, description="desc"):
    return {"id": gid or "id-" + name, "displayName": name, "description": description, "groupTypes": ["DynamicMembership"],
            "membershipRule": rule, "membershipRuleProcessingState": "On"}


def profile(name, groups, created="2026-01-01T00:00:00Z", kind=ENTRA, usage="singleUser", **extra):
    obj = {"@odata.type": kind, "id": "id-" + name, "displayName": name, "description": "", "locale": "de-DE",
           "createdDateTime": created, "deviceNameTemplate": "", "deviceType": "windowsPc",
           "hardwareHashExtractionEnabled": False, "preprovisioningAllowed": False, "roleScopeTagIds": ["0"],
           "outOfBoxExperienceSetting": {"deviceUsageType": usage, "userType": "standard", "privacySettingsHidden": True,
                                         "eulaHidden": True, "escapeLinkHidden": True, "keyboardSelectionPageSkipped": True},
           "assignments": [{"group": g} for g in groups]}
    obj.update(extra)
    return obj


def esp(name, groups, priority=1, **extra):
    obj = {"@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration", "id": "id-" + name,
           "displayName": name, "description": "", "priority": priority, "is_default": False,
           "showInstallationProgress": True, "installProgressTimeoutInMinutes": 60, "customErrorMessage": "Call us.",
           "allowLogCollectionOnInstallFailure": True, "trackInstallProgressForAutopilotOnly": False,
           "blockDeviceSetupRetryByUser": False, "installQualityUpdates": True, "allowDeviceResetOnInstallFailure": False,
           "allowDeviceUseOnInstallFailure": False, "selectedMobileAppIds": [], "selected_apps": [],
           "roleScopeTagIds": ["0"], "scope_tags": ["Default"], "assignments": [{"group": g} for g in groups]}
    obj.update(extra)
    return obj


def device(serial, tag, **extra):
    obj = {"id": "dev-" + serial, "serialNumber": serial, "groupTag": tag, "displayName": "", "userPrincipalName": "",
           "addressableUserName": "", "deploymentProfileAssignmentStatus": "assignedInSync"}
    obj.update(extra)
    return obj


def tenant_input():
    return dict(
        esps=[esp("Autopilot ESP", ["Autopilot devices"]),
              {"id": "t_DefaultWindows10EnrollmentCompletionPageConfiguration", "displayName": "All users and all devices",
               "is_default": True, "priority": 0, "assignments": [{"all_devices": True}]}],
        profiles=[profile("Berlin", ["AP BER"]), profile("Lyon", ["AP LYS"])],
        groups=[group("Autopilot devices", ALL_RULE), group("AP BER", tag_rule("BER")), group("AP LYS", tag_rule("LYS"))],
        devices=[device("S2", "BER"), device("S1", "BER", userPrincipalName="a@contoso.com", addressableUserName="A"),
                 device("L1", "LYS")],
    )


def build(**changes):
    data = tenant_input()
    data.update(changes)
    return Tenant(data["esps"], data["profiles"], data["groups"], data["devices"], data.get("sites"))


def notes(tenant, section):
    return dict(getattr(tenant.notes, section))


# Ansible's own YAML loader, in a child process: importing Ansible's controller code into this one would route the
# warnings of every later module test to the controller's display (ansible.module_utils._internal.is_controller).
LOAD = """import json, sys
from ansible.parsing.yaml.loader import AnsibleLoader
loader = AnsibleLoader(sys.stdin.read())
try:
    json.dump(loader.get_single_data(), sys.stdout)
finally:
    loader.dispose()
"""


def load(text):
    """``text`` as Ansible reads an inventory file (``!unsafe`` values as plain text)."""
    done = subprocess.run([sys.executable, "-c", LOAD], input=text, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_a_site_per_group_tag_group_with_its_profile_devices_and_users():
    tenant = build()
    found = [(s["name"], s["tag"], s["profile"]["displayName"]) for s in tenant.sites]
    assert found == [("ber", "BER", "Berlin"), ("lys", "LYS", "Lyon")]
    ber = dict(tenant.site_vars(tenant.sites[0]))
    assert ber["user_driven_join_devices"] == [{"serial_number": "S1"}, {"serial_number": "S2"}]
    assert ber["user_driven_join_users"] == [{"serial_number": "S1", "assigned_user": "a@contoso.com",
                                              "addressable_user_name": "A"}]
    assert ber["user_driven_join_group_name"] == "AP BER"
    assert ber["user_driven_join_profile_assignments"] == [{"group": "AP BER"}]
    assert "user_driven_join_wait_for_profile" not in ber
    assert tenant.tenant_group["displayName"] == "Autopilot devices"
    assert tenant.esp["displayName"] == "Autopilot ESP"
    assert notes(tenant, "problems") == {} and notes(tenant, "changes") == {}


def test_profiles_that_are_no_site_are_listed_with_the_reason():
    profiles = [profile("Berlin", ["AP BER"]), profile("Kiosk", ["AP BER"], usage="shared"),
                profile("Hybrid", ["AP BER"], kind=HYBRID), profile("Static", ["Pilot users"]),
                profile("Everyone", [], assignments=[{"all_devices": True}])]
    tenant = build(profiles=profiles)
    found = notes(tenant, "profiles")
    assert "self-deploying" in found["profile 'Kiosk'"]
    assert "hybrid join" in found["profile 'Hybrid'"]
    assert "'Pilot users'" in found["profile 'Static'"] and "no dynamic group" in found["profile 'Static'"]
    assert "all devices" in found["profile 'Everyone'"]
    assert [s["name"] for s in tenant.sites] == ["ber"]
    assert "group 'AP LYS'" in notes(tenant, "groups")  # a tag group without a site profile
    assert notes(tenant, "devices") == {"serial 'L1'": "Group tag 'LYS' belongs to no site."}


def test_the_oldest_profile_on_a_group_makes_the_site_and_one_profile_may_serve_two_sites():
    profiles = [profile("Newer", ["AP BER"], created="2026-03-01T00:00:00Z"),
                profile("Older", ["AP BER", "AP LYS"], created="2026-02-01T00:00:00Z")]
    tenant = build(profiles=profiles)
    assert [(s["name"], s["profile"]["displayName"]) for s in tenant.sites] == [("ber", "Older"), ("lys", "Older")]
    assert "Intune applies the oldest profile, 'Older'" in notes(tenant, "profiles")["profile 'Newer'"]
    for site in tenant.sites:  # the complete assignment list on both hosts: neither removes the other's group
        assert dict(tenant.site_vars(site))["user_driven_join_profile_assignments"] == [{"group": "AP BER"}, {"group": "AP LYS"}]


def test_devices_by_tag_without_case_their_own_tag_kept_and_devices_of_no_site_listed():
    devices = [device("S1", "ber", displayName="BER-RECEPTION"), device("S2", ""), device("S3", "OLD"),
               device("S4", "BER"), device("S4", "BER", id="dev-S4-again"),
               device("S5", "BER", deploymentProfileAssignmentStatus="failed")]
    tenant = build(devices=devices)
    ber = dict(tenant.site_vars(tenant.sites[0]))
    assert ber["user_driven_join_devices"] == [{"serial_number": "S1", "group_tag": "ber", "display_name": "BER-RECEPTION"},
                                               {"serial_number": "S5"}]
    found = notes(tenant, "devices")
    assert found["serial 'S2'"] == "No group tag, so no site."
    assert found["serial 'S3'"] == "Group tag 'OLD' belongs to no site."
    assert "Registered 2 times" in found["serial 'S4'"]
    # A device whose profile is not assigned: the role would wait for it, so the export tells it not to wait.
    assert ber["user_driven_join_wait_for_profile"] is False
    assert "S5: failed" in notes(tenant, "settings")["site 'ber'"]


@pytest.mark.parametrize("sites", [{"BER": "berlin", "lys": "lyon"}, "ber=berlin, LYS=lyon"])
def test_export_sites_names_the_sites_by_tag_without_case(sites):
    assert [s["name"] for s in build(sites=sites).sites] == ["berlin", "lyon"]


def test_bad_export_sites_are_reported_together():
    with pytest.raises(ExportError) as caught:
        build(sites="BER=a b,XYZ=zurich,nonsense")
    problems = caught.value.problems
    assert any("site name 'a b' (tag 'BER')" in p for p in problems)
    assert any("'nonsense' is not TAG=site" in p for p in problems)
    assert any("no site has the group tag 'XYZ'" in p for p in problems)


def test_site_names_from_tags_are_host_names_and_never_collide():
    groups = [group("Autopilot devices", ALL_RULE), group("G1", tag_rule("Site A")), group("G2", tag_rule("site_a"))]
    tenant = build(groups=groups, profiles=[profile("P1", ["G1"]), profile("P2", ["G2"])], devices=[])
    assert [s["name"] for s in tenant.sites] == ["site_a", "site_a_2"]
    assert "site 'site_a_2'" in notes(tenant, "settings")


def test_the_esp_assigned_to_the_group_of_all_devices_is_managed_and_the_others_listed():
    esps = [esp("Kiosk ESP", ["Kiosks"], priority=1), esp("Autopilot ESP", ["Autopilot devices"], priority=2,
                                                          disableUserStatusTrackingAfterFirstUser=True)]
    tenant = build(esps=esps)
    assert tenant.esp["displayName"] == "Autopilot ESP"
    assert dict(tenant.tenant_vars())["user_driven_join_esp_priority"] == 2
    assert "ESP 'Kiosk ESP'" in notes(tenant, "esps")
    assert "disableUserStatusTrackingAfterFirstUser is true" in notes(tenant, "settings")["ESP 'Autopilot ESP'"]


def test_without_a_group_of_all_devices_or_an_esp_the_first_run_creates_them():
    tenant = build(esps=[], groups=[group("AP BER", tag_rule("BER")), group("AP LYS", tag_rule("LYS"))])
    changes = notes(tenant, "changes")
    assert "creates this one" in changes["group 'Autopilot devices'"]
    assert "creates this one" in changes["ESP 'Autopilot user-driven ESP'"]
    names = [k for k, _v in tenant.tenant_vars()]
    assert names == ["user_driven_join_tenant_group_name", "user_driven_join_tenant_group_description"]


def test_profile_settings_the_role_does_not_set_are_listed():
    profiles = [profile("Berlin", ["AP BER"], roleScopeTagIds=["0", "2"],
                        enrollmentStatusScreenSettings={"hideInstallationProgress": True}), profile("Lyon", ["AP LYS"])]
    entries = [reason for label, reason in build(profiles=profiles).notes.entries("settings") if label == "profile 'Berlin'"]
    assert [e.split(";")[0] for e in entries] == ["Scope tags (ids 2)",
                                                  "enrollmentStatusScreenSettings is set (the profile's own ESP settings)"]


def test_names_the_modules_cannot_resolve_are_problems():
    groups = tenant_input()["groups"] + [group("AP BER", tag_rule("BER"), gid="another")]
    lost = "0b6d7e5f-2f1c-4d8e-9a3b-7c1d2e3f4a5b"
    profiles = [profile("Berlin", ["AP LYS", lost])]
    found = notes(build(groups=groups, profiles=profiles), "problems")
    assert "Assigned to group id %s" % lost in found["profile 'Berlin'"]
    tenant = build(groups=groups)
    assert "2 dynamic groups carry this name" in notes(tenant, "problems")["group 'AP BER'"]


def test_deprecated_property_names_and_unset_values():
    old = profile("Berlin", ["AP BER"], locale=None, language="fr-FR", preprovisioningAllowed=None, enableWhiteGlove=True,
                  outOfBoxExperienceSetting=None, outOfBoxExperienceSettings={
                      "deviceUsageType": "singleUser", "userType": "administrator", "hidePrivacySettings": False,
                      "hideEULA": True, "hideEscapeLink": False, "skipKeyboardSelectionPage": False})
    del old["deviceType"]
    tenant = build(profiles=[old, profile("Lyon", ["AP LYS"])])
    ber = dict(tenant.site_vars(tenant.sites[0]))
    assert (ber["user_driven_join_locale"], ber["user_driven_join_user_type"], ber["user_driven_join_eula_hidden"],
            ber["user_driven_join_keyboard_selection_page_skipped"], ber["user_driven_join_preprovisioning_allowed"]) == \
        ("fr-FR", "administrator", True, False, True)
    assert "user_driven_join_device_type" not in ber
    assert "device_type is not set" in notes(tenant, "changes")["profile 'Berlin'"]


def test_files_read_back_to_the_tenant_values_with_jinja_kept_literal():
    data = tenant_input()
    data["esps"][0].update(customErrorMessage="Line one {{ not a variable }}\nLine two {% raw %}",
                           selectedMobileAppIds=["app-1"], selected_apps=["Company Portal"])
    data["profiles"][0]["description"] = "Berlin {# comment #}"
    out = export_files(**data)
    files = out["files"]
    assert sorted(files) == ["EXPORT.md", "group_vars/autopilot_sites.yml", "host_vars/ber.yml", "host_vars/lys.yml",
                             "hosts.yml"]
    assert load(files["hosts.yml"]) == {"autopilot_sites": {"hosts": {"ber": None, "lys": None}}}
    shared = load(files["group_vars/autopilot_sites.yml"])
    assert shared["user_driven_join_esp_custom_error_message"] == "Line one {{ not a variable }}\nLine two {% raw %}"
    assert "!unsafe" in files["group_vars/autopilot_sites.yml"]
    assert "#   app-1: Company Portal" in files["group_vars/autopilot_sites.yml"]
    assert shared["user_driven_join_esp_selected_apps"] == ["app-1"]
    ber = load(files["host_vars/ber.yml"])
    assert ber["user_driven_join_profile_description"] == "Berlin {# comment #}"
    assert ber == dict(Tenant(**dict(data, site_names=None)).site_vars(Tenant(**dict(data, site_names=None)).sites[0]))
    assert files["hosts.yml"].startswith("---\n# Written by intune.autopilot.export\n")


def test_the_same_tenant_in_another_order_gives_the_same_bytes():
    data = tenant_input()
    data["profiles"] += [profile("Kiosk", ["AP BER"], usage="shared"), profile("Newer", ["AP BER"], created="2026-05-01"),
                         profile("Static", ["Pilot users"])]
    data["devices"] += [device("X1", ""), device("X2", "OLD"), device("X1", "")]
    data["esps"].append(esp("Second ESP", ["Kiosks"], priority=2))
    shuffled = copy.deepcopy(data)
    for key in ("esps", "profiles", "groups", "devices"):
        shuffled[key].reverse()
    first = export_files(**data)
    assert sum(first["notes"].values()) >= 6
    assert first["files"] == export_files(**shuffled)["files"]

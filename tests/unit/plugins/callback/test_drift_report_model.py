# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift report's model (plugin_utils/_drift_report.py) on results shaped as the modules return them."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.intune.autopilot.plugins.plugin_utils import _drift_report as model

ESP_DIFF = {"before": {"displayName": "Contoso ESP", "installProgressTimeoutInMinutes": 45, "priority": 1,
                       "assignments": [{"group": "Autopilot devices"}]},
            "after": {"displayName": "Contoso ESP", "installProgressTimeoutInMinutes": 90, "priority": 1,
                      "assignments": [{"group": "Autopilot devices"}]}}


def record(action, result, host="berlin", status="ok", task="Task", run_once=False, ignored=False, args=None):
    return {"host": host, "task": task, "action": action, "status": status, "result": result, "run_once": run_once,
            "ignored": ignored, "args": args or {}}


def esp_record(**kwargs):
    result = {"changed": True, "diff": ESP_DIFF, "esp": {"displayName": "Contoso ESP", "id": "e1"}}
    return record("intune.autopilot.intune_esp", result, args={"display_name": "Contoso ESP"}, **kwargs)


def device_record(devices, before=None, after=None, group_tag="BER", host="berlin", status="ok"):
    result = {"changed": True, "devices": devices, "summary": {},
              "diff": {"before": {"devices": before or {}}, "after": {"devices": after or {}}}}
    return record("intune.autopilot.autopilot_device", result, host=host, status=status, args={"group_tag": group_tag})


def test_a_record_keeps_names_tags_and_serials_of_the_task_arguments_only():
    args = {"display_name": "G", "client_secret": "s3cr3t", "group_tag": "BER", "wait_timeout": 60, "id": None,
            "devices": [{"serial_number": "S1", "hardware_identifier": "AAAA"}, "junk", {"group_tag": "X"}]}
    assert model.task_args(args) == {"display_name": "G", "group_tag": "BER", "devices": [{"serial_number": "S1"}]}
    assert model.task_args(None) == {}


def test_module_name_only_for_this_collection():
    assert model.module_name("intune.autopilot.intune_esp") == "intune_esp"
    assert model.module_name("ansible.builtin.fail") is None
    assert model.module_name(None) is None
    assert model.short_action("ansible.builtin.fail") == "fail"


def test_nested_properties_are_named_by_path_lists_whole():
    before = {"locale": "de-DE", "outOfBoxExperienceSetting": {"userType": "standard", "eulaHidden": True},
              "assignments": [{"group": "A"}]}
    after = {"locale": "de-DE", "outOfBoxExperienceSetting": {"userType": "administrator", "eulaHidden": True},
             "assignments": [{"group": "A"}, {"group": "B"}]}
    assert model.property_changes(before, after) == {
        "assignments": {"before": [{"group": "A"}], "after": [{"group": "A"}, {"group": "B"}]},
        "outOfBoxExperienceSetting.userType": {"before": "standard", "after": "administrator"}}


def test_an_update_lists_only_the_properties_that_differ():
    changes, failures = model.task_changes(esp_record(run_once=True))
    assert failures == []
    assert changes == [{"host": "berlin", "task": "Task", "module": "intune_esp", "tenant_wide": True,
                        "object": "Contoso ESP", "action": "update",
                        "properties": {"installProgressTimeoutInMinutes": {"before": 45, "after": 90}}}]


def test_create_and_delete_from_an_empty_side_of_the_diff():
    create = record("intune.autopilot.aad_group", {
        "changed": True, "group": {"displayName": "G"},
        "diff": {"before": {}, "after": {"description": "d", "groupTypes": ["DynamicMembership"]}}})
    delete = record("intune.autopilot.autopilot_profile", {
        "changed": True, "profile": None, "diff": {"before": {"displayName": "P", "locale": "fr-FR"}, "after": {}}})
    (created,), _none = model.task_changes(create)
    (deleted,), _none = model.task_changes(delete)
    assert (created["action"], created["object"], created["properties"]["description"]) == ("create", "G", {"before": None, "after": "d"})
    assert (deleted["action"], deleted["object"], deleted["properties"]["locale"]) == ("delete", "P", {"before": "fr-FR", "after": None})


def test_an_unchanged_or_read_only_task_is_no_change():
    unchanged = esp_record()
    unchanged["result"]["changed"] = False
    info = record("intune.autopilot.intune_esp_info", {"changed": False, "esps": [{"displayName": "x"}]})
    assert model.task_changes(unchanged) == ([], [])
    assert model.task_changes(info) == ([], [])


def test_a_bulk_device_task_is_listed_device_by_device():
    devices = [
        {"serial_number": "S1", "action": "imported", "changes": {}},
        {"serial_number": "S2", "action": "updated", "changes": {"group_tag": {"before": "OLD", "after": "BER"}}},
        {"serial_number": "S3", "action": "deleted", "changes": {}},
        {"serial_number": "S4", "action": "unchanged", "changes": {}},
        {"serial_number": "S5", "action": "pending", "changes": {}},
        {"serial_number": "S6", "action": "failed", "error_name": "ZtdDeviceAssignedToOtherTenant", "error_message": "806"},
    ]
    changes, failures = model.task_changes(device_record(
        devices, before={"S2": {"group_tag": "OLD"}, "S3": {"group_tag": "BER", "assigned_user": ""}},
        after={"S1": {"group_tag": "BER"}, "S2": {"group_tag": "BER"}, "S5": {"group_tag": "BER"}}))
    assert [(c["object"], c["action"], c["properties"]) for c in changes] == [
        ("S1", "create", {"group_tag": {"before": None, "after": "BER"}}),
        ("S2", "update", {"group_tag": {"before": "OLD", "after": "BER"}}),
        ("S3", "delete", {"assigned_user": {"before": "", "after": None}, "group_tag": {"before": "BER", "after": None}}),
        ("S5", "create", {"group_tag": {"before": None, "after": "BER"}}),
    ]
    assert changes[3]["pending"] is True and "pending" not in changes[0]
    assert [(f["object"], f["message"]) for f in failures] == [("S6", "ZtdDeviceAssignedToOtherTenant: 806")]


def test_a_no_log_result_says_that_it_changed_never_what():
    censored = record("intune.autopilot.aad_group", {"censored": "the output has been hidden", "changed": True})
    quiet = record("intune.autopilot.aad_group", {"censored": "the output has been hidden", "changed": False})
    (change,), _none = model.task_changes(censored)
    assert (change["action"], change["object"], change["properties"], change["censored"]) == ("unknown", None, {}, True)
    assert model.task_changes(quiet) == ([], [])


def test_a_failed_task_of_any_module_is_a_failure_and_keeps_its_partial_result():
    failed = device_record([{"serial_number": "S1", "action": "imported", "changes": {}}], after={"S1": {"group_tag": "BER"}},
                           status="failed")
    failed["result"]["msg"] = "Timed out waiting for 1 device"
    changes, failures = model.task_changes(failed)
    assert [c["object"] for c in changes] == ["S1"]
    assert [(f["module"], f["message"]) for f in failures] == [("autopilot_device", "Timed out waiting for 1 device")]
    gate = record("ansible.builtin.fail", {"msg": "Drift: 3 change(s)"}, status="failed", ignored=True)
    assert model.task_changes(gate) == ([], [{"host": "berlin", "task": "Task", "module": "fail", "tenant_wide": False,
                                              "object": None, "message": "Drift: 3 change(s)", "ignored": True}])


def test_loop_items_are_read_one_by_one_and_only_failed_items_fail():
    items = [dict(esp_record()["result"], item=1),
             {"failed": True, "msg": "Failed to update profile 'x': 400", "changed": False, "item": 2,
              "invocation": {"module_args": {"display_name": "x"}}}]
    # A loop's task arguments are not its items': only each item's invocation names its object.
    changes, failures = model.task_changes(record("intune.autopilot.intune_esp", {"changed": True, "results": items},
                                                  status="failed"))
    assert [c["object"] for c in changes] == ["Contoso ESP"]
    assert [(f["object"], f["message"]) for f in failures] == [("x", "Failed to update profile 'x': 400")]


def managed_run():
    """Records of a run that manages Berlin: its group (tag BER by its rule), ESP, profile and devices, and the tenant
    group. Names come from the task arguments or, as on ansible-core 2.19, from the result's ``invocation``."""
    return [
        record("intune.autopilot.aad_group", {"changed": False, "group": {"displayName": "All AP"}}, run_once=True),
        record("intune.autopilot.aad_group", {"changed": False, "group": {
            "displayName": "AP - Berlin", "membershipRule": '(device.devicePhysicalIds -any (_ -eq "[OrderID]:BER"))'}}),
        record("intune.autopilot.intune_esp", {"changed": False, "invocation": {"module_args": {"display_name": "Contoso ESP"}}},
               run_once=True),
        record("intune.autopilot.autopilot_profile", {"changed": False}, args={"display_name": "Berlin profile"}),
        record("intune.autopilot.autopilot_device", {"changed": False, "devices": [{"serial_number": "S1", "action": "unchanged"}]}),
        # the users task: a serial someone else registered, managed by serial only
        record("intune.autopilot.autopilot_device", {"changed": False}, args={"devices": [{"serial_number": "s9"}]}),
    ]


def test_unmanaged_objects_sit_where_the_run_manages_and_belong_to_the_managing_host():
    esps = [{"id": "d", "displayName": "All users and all devices", "is_default": True, "assignments": [{"all_devices": True}]},
            {"id": "e1", "displayName": "contoso esp", "assignments": [{"group": "All AP"}]},
            {"id": "e2", "displayName": "Legacy ESP", "priority": 2, "assignments": [{"group": "all ap"}, {"group": "Other"}]},
            {"id": "e3", "displayName": "Pilot ESP", "assignments": [{"group": "AP - Berlin", "exclude": True}]},
            {"id": "e4", "displayName": "Elsewhere ESP", "assignments": [{"group": "Other"}]}]
    profiles = [{"id": "p1", "displayName": "Berlin profile", "assignments": [{"group": "AP - Berlin"}]},
                {"id": "p2", "displayName": "Kiosk", "locale": "de-DE", "assignments": [{"group": "AP - Berlin"}]}]
    devices = [{"id": "d1", "serialNumber": "S1", "groupTag": "BER"}, {"id": "d9", "serialNumber": "S9", "groupTag": "BER"},
               {"id": "d2", "serialNumber": "S2", "groupTag": "ber", "model": "Surface Laptop 5", "userPrincipalName": ""},
               {"id": "d3", "serialNumber": "S3", "groupTag": "LYS"}]
    records = managed_run() + [
        record("intune.autopilot.intune_esp_info", {"esps": esps}, run_once=True),
        record("intune.autopilot.autopilot_profile_info", {"profiles": profiles}, run_once=True),
        record("intune.autopilot.autopilot_device_info", {"devices": devices}, run_once=True),
        # read twice: listed once
        record("intune.autopilot.autopilot_device_info", {"devices": devices}, host="lyon"),
    ]
    found = model.unmanaged(records)
    assert [(u["host"], u["tenant_wide"], u["kind"], u["object"], u["where"]) for u in found] == [
        ("berlin", False, "device", "S2", "group tag 'ber'"),
        ("berlin", True, "esp", "Legacy ESP", "assigned to 'all ap'"),
        ("berlin", False, "esp", "Pilot ESP", "assigned to 'AP - Berlin (excluded)'"),
        ("berlin", False, "profile", "Kiosk", "assigned to 'AP - Berlin'"),
    ]
    assert found[0]["details"] == {"model": "Surface Laptop 5"}
    assert found[1]["details"] == {"priority": 2}


def test_a_failed_task_manages_nothing_and_a_failed_read_shows_nothing():
    records = [record("intune.autopilot.aad_group", {}, args={"display_name": "AP - Berlin"}, status="failed"),
               record("intune.autopilot.intune_esp_info", {"esps": [{"id": "e", "displayName": "X", "assignments": [{"group": "AP - Berlin"}]}]})]
    assert model.unmanaged(records) == []
    records = managed_run() + [record("intune.autopilot.intune_esp_info", {"esps": [
        {"id": "e", "displayName": "X", "assignments": [{"group": "AP - Berlin"}]}]}, status="failed")]
    assert model.unmanaged(records) == []


def test_summary_counts_per_action_module_and_host():
    changes = [{"host": "berlin", "module": "autopilot_device", "action": "create"},
               {"host": "berlin", "module": "autopilot_device", "action": "update"},
               {"host": "lyon", "module": "autopilot_profile", "action": "unknown"}]
    summary = model.summary(changes, [{"host": "lyon"}], [{"host": "paris"}])
    assert summary == {"changes": 3, "unmanaged": 1, "failures": 1, "devices": 2, "create": 1, "update": 1, "delete": 0,
                       "unknown": 1, "modules": {"autopilot_device": 2, "autopilot_profile": 1},
                       "hosts": {"berlin": {"changes": 2, "unmanaged": 0, "failures": 0},
                                 "lyon": {"changes": 1, "unmanaged": 1, "failures": 0},
                                 "paris": {"changes": 0, "unmanaged": 0, "failures": 1}}}


def test_scrub_masks_secret_keys_at_any_depth_and_cuts_out_known_secrets():
    value = {"properties": {"client_secret": {"before": "old-value", "after": "new-value"}, "description": "uses s3cr3t-Value!"},
             "token_count": None, "list": ["s3cr3t-Value!", 1, True]}
    assert model.scrub(value, ["s3cr3t-Value!"]) == {
        "properties": {"client_secret": {"before": model.MASK, "after": model.MASK}, "description": "uses ********"},
        "token_count": None, "list": ["********", 1, True]}


def test_secrets_from_the_environment_longest_first_and_never_short_or_empty():
    environ = {"AZURE_CLIENT_SECRET": "abcdefgh", "AZURE_SECRET": "abcdefghij", "AZURE_PASSWORD": "",
               "AZURE_CLIENT_CERTIFICATE_PASSWORD": "abc", "PATH": "abcdefghijkl"}
    assert model.secrets_from(environ) == ["abcdefghij", "abcdefgh"]


def test_build_reports_drift_status_and_never_a_secret():
    secret = "Xy9~vErY-SeCrEt"
    gate = record("ansible.builtin.fail", {"msg": "the secret is %s" % secret}, status="failed")
    report = model.build([esp_record(run_once=True), gate], check_mode=True, status="failed", playbook="site.yml",
                         started="t0", finished="t1", secrets=[secret])
    assert (report["drift"], report["check_mode"], report["status"], report["playbook"]) == (True, True, "failed", "site.yml")
    assert [c["object"] for c in report["changes"]] == ["Contoso ESP"]
    assert report["failures"][0]["message"] == "the secret is ********"
    assert secret not in repr(report)
    clean = model.build([], check_mode=False, status="ok")
    assert (clean["drift"], clean["changes"], clean["summary"]["changes"]) == (False, [], 0)


def test_a_device_task_s_group_tag_is_managed_too():
    records = [device_record([{"serial_number": "K1", "action": "unchanged"}], group_tag="KIOSK", host="lyon"),
               record("intune.autopilot.autopilot_device_info", {"devices": [
                   {"id": "k1", "serialNumber": "K1", "groupTag": "KIOSK"}, {"id": "k2", "serialNumber": "K2", "groupTag": "Kiosk"}]})]
    assert [(u["host"], u["object"]) for u in model.unmanaged(records)] == [("lyon", "K2")]

# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DeviceRun against the fake Graph client of test_autopilot_devices: what Intune says before a device counts as
assigned, deletion, one device's calls in order, the read-back, serial casing, the real import answer, the clean-up
during the waits, why a profile wait is still waiting, and every input problem at once."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.intune.autopilot.plugins.module_utils import _autopilot_device_graph as graph
from ansible_collections.intune.autopilot.plugins.module_utils import _autopilot_device_plan as plan_mod
from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_device_input import device_specs
from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_device_run import DeviceRun, profile_ready
from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import EngineError
from tests.unit.plugins.module_utils.test_autopilot_devices import (  # noqa: F401 pylint: disable=unused-import
    ASSIGNED, HEADER, Clock, FakeClient, FakeModule, device, hwid, params, run,
)


def batches(client):
    """The write $batch requests sent, each as a list of (method, last url segment, device id)."""
    return [[(r["method"], r["url"].rsplit("/", 1)[-1], r["url"].split("/")[3]) for r in c[2]]
            for c in client.calls if c[0] == "BATCH" and any(r["method"] != "GET" for r in c[2])]


# -- "assigned" only when Intune says so ---------------------------------------------------------------------------

@pytest.mark.parametrize("status, date, ready", [
    ("assignedInSync", ASSIGNED, True),
    ("assignedUnkownSyncState", ASSIGNED, True),   # the enum's own spelling: assigned in Intune, sync state unknown
    ("assignedOutOfSync", ASSIGNED, False),        # "not in sync with Windows auto pilot program": not yet usable
    ("assignedInSync", "0001-01-01T00:00:00Z", False),  # memdocs profiles.md: wait until "Date assigned" is populated
    ("assignedInSync", None, False),
    ("pending", None, False), ("notAssigned", None, False), ("unknown", None, False),
])
def test_profile_ready_needs_an_assigned_status_and_the_date(status, date, ready):
    assert profile_ready({"deploymentProfileAssignmentStatus": status, "deploymentProfileAssignedDateTime": date}) is ready


def test_the_profile_wait_goes_on_while_intune_is_out_of_sync_or_has_no_date():
    """A device reported assignedOutOfSync, then assignedInSync without a date, is still waited for; the wait ends
    once the date is there (before the fix both ended the wait at the first look)."""
    client = FakeClient(devices=[device("S1", deploymentProfileAssignmentStatus="assignedOutOfSync",
                                        deploymentProfileAssignedDateTime=ASSIGNED)])
    steps = iter([dict(deploymentProfileAssignmentStatus="assignedInSync", deploymentProfileAssignedDateTime="0001-01-01T00:00:00Z"),
                  dict(deploymentProfileAssignedDateTime=ASSIGNED)])
    original = client.list
    reads = []

    def listing(path, **kw):
        reads.append(path)
        if len(reads) > 1:  # the reads of the wait, after the plan's
            client.devices["id-S1"].update(next(steps, {}))
        return original(path, **kw)
    client.list = listing
    dummy, result = run(client, wait_for="profile_assigned", devices=[{"serial_number": "S1"}])
    assert "timed_out" not in result, result.get("msg")
    assert [p["counts"] for p in result["progress"]] == [{"assignedInSync": 1}, {"assignedInSync": 1}]
    assert result["devices"][0]["device"]["deploymentProfileAssignedDateTime"] == ASSIGNED


def test_a_profile_wait_that_times_out_says_why_each_device_waits():
    client = FakeClient(devices=[device("S1", groupTag="BER"), device("S2", deploymentProfileAssignmentStatus="pending"),
                                 device("S3", deploymentProfileAssignmentStatus="assignedOutOfSync"),
                                 device("S4"), device("S5")])
    original = client.batch

    def batch(requests, api="beta"):
        out = original(requests, api=api)
        for req, answer in zip(requests, out):
            if req["url"].split("?")[0].endswith("/id-S4/intendedDeploymentProfile"):
                answer.update(status=200, body={"id": "p1", "displayName": "Berlin profile"})
            if "/id-S5/" in req["url"]:
                answer.update(status=403, body={"error": {"code": "Forbidden"}})  # no reason then, only the state
        return out
    client.batch = batch
    dummy, result = run(client, wait_for="profile_assigned", wait_timeout=2,
                        devices=[{"serial_number": "S%d" % i} for i in range(1, 6)])
    msg = result["msg"]
    assert msg.startswith("Timed out after 2s waiting for a deployment profile to be assigned on 5 device(s): S1 (notAssigned), "
                          "S2 (pending), S3 (assignedOutOfSync), S4 (notAssigned), S5 (notAssigned). Why: ")
    assert "S1: no deployment profile targets it" in msg and "its group tag 'BER'" in msg
    assert "S2: Intune is assigning the profile" in msg
    assert "S3: assigned in Intune, not yet in sync with the Windows Autopilot service" in msg
    assert "S4: Intune intends the profile 'Berlin profile' but has not assigned it yet" in msg
    assert "S5:" not in msg
    intended = [r["url"] for c in client.calls if c[0] == "BATCH" for r in c[2] if "intendedDeploymentProfile" in r["url"]]
    assert len(intended) == 3, "one $batch of reads, only for the notAssigned devices"


# -- state: absent --------------------------------------------------------------------------------------------------

def test_absent_unassigns_the_user_first_then_deletes_in_a_later_batch():
    client = FakeClient(devices=[device("S1", userPrincipalName="anna@contoso.com"), device("S2")])
    dummy, result = run(client, state="absent", devices=[{"serial_number": "S1"}, {"serial_number": "S2"}])
    assert batches(client) == [[("POST", "unassignUserFromDevice", "id-S1"), ("DELETE", "id-S2", "id-S2")],
                               [("DELETE", "id-S1", "id-S1")]]
    sent = [r for c in client.calls if c[0] == "BATCH" for r in c[2] if r["url"].endswith("/unassignUserFromDevice")]
    assert sent[0]["body"] == {}, "a write inside $batch carries a body"
    assert [d["action"] for d in result["devices"]] == ["deleted", "deleted"] and client.devices == {}


def test_a_failed_unassign_keeps_the_device():
    client = FakeClient(devices=[device("S1", userPrincipalName="anna@contoso.com")])
    original = client.batch

    def batch(requests, api="beta"):
        if requests[0]["url"].endswith("/unassignUserFromDevice"):
            return [{"status": 400, "body": {"error": {"code": "BadRequest", "message": "no"}}}]
        return original(requests, api=api)
    client.batch = batch
    dummy, result = run(client, state="absent", serial_number="S1", fail_on_error=False)
    assert result["devices"][0]["action"] == "failed" and result["devices"][0]["error_code"] == 400
    assert "id-S1" in client.devices


def test_absent_waits_until_intune_no_longer_lists_the_device_so_a_rerun_finds_it_gone():
    client = FakeClient(devices=[device("S1"), device("S2")], delete_delay=3)  # listed for 3 more reads after the DELETE
    dummy, first = run(client, state="absent", devices=[{"serial_number": "S1"}, {"serial_number": "S2"}])
    assert "timed_out" not in first and [d["action"] for d in first["devices"]] == ["deleted", "deleted"]
    assert client.devices == {} and first["progress"][-1]["counts"] == {"removed": 2, "still listed": 0}
    assert set(p["phase"] for p in first["progress"]) == {"deleted"}
    client.calls = []
    dummy, again = run(client, state="absent", devices=[{"serial_number": "S1"}, {"serial_number": "S2"}])
    assert client.writes() == [] and again["changed"] is False and [d["action"] for d in again["devices"]] == ["absent"] * 2


def test_a_deletion_wait_that_runs_out_says_so():
    client = FakeClient(devices=[device("S1")], delete_delay=10)
    dummy, first = run(client, state="absent", serial_number="S1", wait_timeout=1)
    assert first["timed_out"] is True and first["devices"][0]["action"] == "deleted"
    assert first["msg"] == ("Timed out after 1s waiting for Intune to remove the deleted devices on 1 device(s): S1 (still "
                            "listed). Intune accepted the deletion; deregistration can take a while, and Graph shows nothing "
                            "of it, so a re-run sends the deletion again and waits for the devices.")


# -- one device's calls in order; the device as it is after the writes ----------------------------------------------

def test_properties_and_user_of_one_device_are_never_in_one_batch():
    client = FakeClient(devices=[device("S1", groupTag="A"), device("S2", groupTag="A")])
    dummy, result = run(client, devices=[{"serial_number": "S1", "group_tag": "B", "assigned_user": "anna@contoso.com"},
                                         {"serial_number": "S2", "group_tag": "B"}])
    assert batches(client) == [[("POST", "updateDeviceProperties", "id-S1"), ("POST", "updateDeviceProperties", "id-S2")],
                               [("POST", "assignUserToDevice", "id-S1")]]
    # the result shows the devices as Graph returns them after the update (fidelity finding 8), not as read before
    assert [(d["device"]["groupTag"], d["device"]["userPrincipalName"]) for d in result["devices"]] == [
        ("B", "anna@contoso.com"), ("B", "")]


def test_a_user_given_at_import_gets_the_friendly_name_a_later_assignment_gets():
    """The import record carries the user; once the device is listed, assignUserToDevice sends the same friendly name
    (the user's display name) as for a user assigned to a registered device (fidelity finding 5)."""
    client = FakeClient()
    dummy, result = run(client, devices=[{"serial_number": "S1", "hardware_identifier": hwid("1"), "assigned_user": "anna@contoso.com"}])
    assert client.devices["new-S1"]["addressableUserName"] == "Name of anna"
    assert result["devices"][0]["device"]["addressableUserName"] == "Name of anna"
    client.calls = []
    dummy, again = run(client, devices=[{"serial_number": "S1", "hardware_identifier": hwid("1"), "assigned_user": "anna@contoso.com"}])
    assert client.writes() == [] and again["changed"] is False


# -- serial casing ----------------------------------------------------------------------------------------------

def test_the_filter_sends_the_serial_in_capitals():
    """A serial typed in lower case is found by a filter that compares with case (finding 6)."""
    client = FakeClient(devices=[device("PF3ABC12", groupTag="A")], case_sensitive=True)
    dummy, result = run(client, devices=[{"serial_number": "pf3abc12", "group_tag": "B"}])
    assert result["devices"][0]["action"] == "updated" and client.devices["id-PF3ABC12"]["groupTag"] == "B"
    reads = [c[2].get("$filter") for c in client.calls if c[0] == "GET" and c[1] == plan_mod.DEVICES_PATH]
    assert reads[0] == "contains(serialNumber,'PF3ABC12')"


def test_a_serial_stored_in_lower_case_is_confirmed_in_the_whole_list():
    client = FakeClient(devices=[device("vm0abc1", groupTag="A")], case_sensitive=True)
    sync, result = run(client, devices=[{"serial_number": "vm0abc1", "group_tag": "B"}])
    assert result["devices"][0]["action"] == "updated", "not taken as unregistered on a filter miss"
    assert sync.warnings == [graph.FILTER_MISSED % "'vm0abc1'"]
    reads = [c[2].get("$filter") for c in client.calls if c[0] == "GET" and c[1] == plan_mod.DEVICES_PATH]
    assert reads == ["contains(serialNumber,'VM0ABC1')", None, None], "then the list only (plan, read-back)"


# -- what the real import answer carries ----------------------------------------------------------------------------

def test_nothing_relies_on_what_the_real_import_answer_lacks():
    """MSEndpointMgr/Intune issue #71: an empty hardwareIdentifier, the record id as productKey and importId, no group
    tag or user echoed. Records are matched by id and serial, settings come from the task."""
    client = FakeClient(real_answer=True, errors={"S2": 808})
    dummy, result = run(client, group_tag="T", fail_on_error=False, devices=[
        {"serial_number": "S1", "hardware_identifier": hwid("1"), "product_key": "PK1", "display_name": "PC-1"},
        {"serial_number": "S2", "hardware_identifier": hwid("2")}])
    assert [(d["action"], d.get("error_code")) for d in result["devices"]] == [("imported", None), ("failed", 808)]
    assert client.devices["new-S1"]["groupTag"] == "T" and client.devices["new-S1"]["displayName"] == "PC-1"
    assert result["diff"]["after"]["devices"]["S1"] == {"group_tag": "T", "display_name": "PC-1"}
    assert client.records == {}


# -- the clean-up of import records during the waits ----------------------------------------------------------------

def test_the_clean_up_runs_while_the_profile_wait_waits():
    """120 new devices; Intune assigns their profile 60 s after they are listed. The 120 deletes go out during that
    wait, within 100 writes per 20 s, so the task ends when the profiles are assigned, not after the deletes."""
    client = FakeClient()
    clock = Clock()
    listed_at = {}
    original = client.list

    def listing(path, **kw):
        out = original(path, **kw)
        for dev in client.devices.values():
            listed_at.setdefault(dev["id"], clock.now)
            if clock.now >= listed_at[dev["id"]] + 60:
                dev.update(deploymentProfileAssignmentStatus="assignedInSync", deploymentProfileAssignedDateTime=ASSIGNED)
        return original(path, **kw) if path == plan_mod.DEVICES_PATH else out
    client.list = listing
    deleted_at = []
    original_batch = client.batch

    def batch(requests, api="beta"):
        deleted_at.extend(clock.now for r in requests if r["method"] == "DELETE")
        return original_batch(requests, api=api)
    client.batch = batch
    p = params(devices=[{"serial_number": "S%03d" % i, "hardware_identifier": hwid(str(i))} for i in range(120)],
               wait_for="profile_assigned", poll_interval=5, wait_timeout=600)
    runner = DeviceRun(FakeModule(client), p, clock=clock, sleep=clock.sleep)
    result = runner.run(device_specs(dict(p, csv_path=None))[0], False)
    assert result["summary"] == {"imported": 120, "total": 120} and client.records == {}
    assert len(deleted_at) == 120 and max(deleted_at) < clock.now, "every delete was sent before the wait ended"
    assert clock.now - 1000 <= 5 + 60 + 5, "about the profile delay, not the delay plus the deletes"


def test_records_of_listed_devices_and_error_records_go_while_others_are_not_listed():
    client = FakeClient(errors={"S2": 806})
    clock = Clock()
    original = client.list

    def listing(path, **kw):
        if path == plan_mod.DEVICES_PATH and "new-S1" in client.devices and clock.now < 1030:
            client.devices["new-S1"]["_hidden"] = 1  # S1 is listed only from 30 s on
        return original(path, **kw)
    client.list = listing
    p = params(devices=[{"serial_number": "S%d" % i, "hardware_identifier": hwid(str(i))} for i in range(3)], poll_interval=5,
               fail_on_error=False)
    runner = DeviceRun(FakeModule(client), p, clock=clock, sleep=clock.sleep)
    left = []
    runner.background = lambda: (DeviceRun.background(runner), left.append(sorted(r["serialNumber"] for r in client.records.values())))
    runner.run(device_specs(dict(p, csv_path=None))[0], False)
    assert ["S1"] in left, "the 806 record and the listed devices' records went during the wait; S1's record stayed"
    assert client.records == {}


# -- input: every problem at once -------------------------------------------------------------------------------------

def test_every_input_problem_at_once(tmp_path):
    path = tmp_path / "hashes.csv"
    path.write_text("%s\nS3,,not-base64!,,\n" % HEADER)
    p = params(batch_size=0, poll_interval=0, csv_path=str(path), devices=[{"serial_number": "S1", "assigned_user": "bob"}])
    with pytest.raises(EngineError) as err:
        device_specs(p)
    problems = err.value.extra["problems"]
    assert problems[:2] == ["batch_size must be at least 1, got 0", "poll_interval must be at least 1, got 0"]
    assert any("line 2" in x and "not valid base64" in x for x in problems)
    assert any("devices[0] (serial 'S1')" in x and "not a user principal name" in x for x in problems)
    assert err.value.msg.startswith("4 problems, found before any change: (1) batch_size")


def test_unknown_users_and_unplannable_serials_fail_together_before_any_write():
    client = FakeClient(devices=[device("S1")])
    with pytest.raises(EngineError) as err:
        run(client, devices=[{"serial_number": "S1", "assigned_user": "ghost@contoso.com"}, {"serial_number": "S9", "group_tag": "X"}])
    problems = err.value.extra["problems"]
    assert len(problems) == 2 and "'ghost@contoso.com'" in problems[0] and "'S9' is not registered" in problems[1]
    assert client.writes() == []

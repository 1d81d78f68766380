# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The assignments option: every problem of the list at once, in the user's terms; Graph targets both ways; a group
created a moment ago retried as a target until Intune knows it, bounded. No network."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest

from ansible_collections.intune.autopilot.plugins.module_utils import _graph_assignments as targets
from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import Problems, WaitTimeout
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_lookup import Resolver

NOW = 1_800_000_000.0
GROUPS = {"Autopilot devices": "11111111-1111-1111-1111-111111111111", "Lab": "22222222-2222-2222-2222-222222222222"}


def stamp(seconds_ago):
    return (datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=NOW - seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


class Client(object):
    def __init__(self, created_ago=3600):
        self.created_ago = created_ago

    def list(self, path, api="beta", params=None, headers=None):
        if path == "/groups":
            name = params["$filter"].split("'")[1]
            return [{"id": GROUPS[name], "displayName": name, "createdDateTime": stamp(self.created_ago)}] if name in GROUPS else []
        if path == "/deviceManagement/assignmentFilters":
            return [{"id": "33333333-3333-3333-3333-333333333333", "displayName": "Windows 11"}]
        raise AssertionError(path)


class Module(object):
    check_mode = False

    def __init__(self, client, assignments):
        self.client = client
        self.params = {"assignments": assignments, "check_mode_missing": "fail"}
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


class Ctx(object):
    def __init__(self, assignments, created_ago=3600):
        self.module = Module(Client(created_ago), assignments)
        self.params = self.module.params
        self.resolver = Resolver(self.module)
        self.problems = Problems()


def test_every_problem_of_the_list_at_once():
    ctx = Ctx([{"group": "Autopilot devices"}, {"group": "Nope"}, {}, {"all_devices": True, "exclude": True},
               {"group": "Lab", "exclude": True, "filter": "Windows 11"}, {"group": "Autopilot devices", "exclude": True},
               {"all_users": True, "filter_mode": "include"}, {"group": "Lab", "filter": "No filter"}])
    desired = targets.desired(ctx, allow_all_users=False)
    assert ctx.problems.items == [
        "assignments[1].group: no group named 'Nope' was found.",
        "assignments[2]: set exactly one of group, all_devices or all_users (got none).",
        "assignments[3]: exclude applies to a group only.",
        "assignments[4]: a filter cannot be set on an exclusion.",
        "assignments[5]: the group 'Autopilot devices' is listed more than once.",
        "assignments[6]: all_users is not a valid target here; this resource is assigned to devices, so use groups or "
        "all_devices.",
        "assignments[6]: filter_mode needs filter.",
        "assignments[7].filter: no assignment filter named 'No filter' was found.",
    ]
    assert ("group", GROUPS["Autopilot devices"]) in desired


def test_all_devices_with_exclusions_is_refused():
    ctx = Ctx([{"all_devices": True}, {"group": "Lab", "exclude": True}])
    targets.desired(ctx)
    assert ctx.problems.items == ["assignments: 'all_devices' cannot be combined with excluded groups; Intune does not "
                                  "support exclusions on an All devices assignment. Assign to groups instead."]


def test_targets_round_trip():
    key, value = ("group", "g1"), ("f1", "include")
    assert targets.normalize(targets.to_target(key, value)) == (key, value)
    assert targets.normalize({"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "g1",
                              "deviceAndAppManagementAssignmentFilterId": "00000000-0000-0000-0000-000000000000",
                              "deviceAndAppManagementAssignmentFilterType": "include"}) == (key, (None, "none"))
    assert targets.to_target(("exclude", "g2"), (None, "none")) == {
        "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", "groupId": "g2"}


class Refusing(object):
    """A write Intune refuses ``times`` times with ``status`` (Intune's answer for a target it does not know)."""

    def __init__(self, times, status=400):
        self.times = times
        self.status = status
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.times:
            raise GraphError("An error has occurred - Operation ID ...", status=self.status, code="BadRequest")


def clock():
    now = [NOW]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds
    return sleep, (lambda: now[0]), slept


def resolved(created_ago):
    ctx = Ctx([{"group": "Autopilot devices"}], created_ago=created_ago)
    return ctx, list(targets.desired(ctx))


def test_a_new_group_is_retried_until_intune_accepts_it():
    ctx, keys = resolved(created_ago=20)
    write = Refusing(3)
    sleep, now, slept = clock()
    targets.retry_new_groups(ctx, keys, "profile 'P'", write, sleep=sleep, clock=now)
    assert write.calls == 4 and len(slept) == 3, "no second write without a pause first"


@pytest.mark.parametrize("status", [400, 404])
def test_a_group_intune_never_learns_times_out_naming_it(status):
    ctx, keys = resolved(created_ago=60)
    sleep, now, slept = clock()
    with pytest.raises(WaitTimeout) as err:
        targets.retry_new_groups(ctx, keys, "esp 'E'", Refusing(10 ** 6, status), sleep=sleep, clock=now)
    assert err.value.msg.startswith("Timed out after 840s waiting for Intune to accept the new group(s) 'Autopilot "
                                    "devices' (created 60s ago) as assignment targets of esp 'E'; last seen: ")
    assert "run the task again later" in err.value.msg
    assert sum(slept) == pytest.approx(840)


def test_an_old_group_or_another_error_fails_at_once():
    ctx, keys = resolved(created_ago=3600)
    write = Refusing(1)
    with pytest.raises(GraphError):
        targets.retry_new_groups(ctx, keys, "esp 'E'", write, sleep=lambda s: None, clock=lambda: NOW)
    assert write.calls == 1
    ctx, keys = resolved(created_ago=10)
    write = Refusing(1, status=403)
    with pytest.raises(GraphError):
        targets.retry_new_groups(ctx, keys, "esp 'E'", write, sleep=lambda s: None, clock=lambda: NOW)
    assert write.calls == 1

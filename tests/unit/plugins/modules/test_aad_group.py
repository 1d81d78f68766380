# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aad_group member writes without a network: how a 400 to ``members/$ref`` is read."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import EngineError
from ansible_collections.intune.autopilot.plugins.module_utils import _aad_group as mod

GROUP = {"id": "g1", "displayName": "Pilot users"}
USER = "11111111-1111-1111-1111-111111111111"


class Client(object):
    """Answers every member add with 400 ``message``; lists ``listed`` as the group's members."""

    graph_url = "https://graph.test"

    def __init__(self, message, listed):
        self.message = message
        self.listed = listed
        self.calls = []

    def post(self, path, json=None, api="beta", probe=None):
        self.calls.append(("POST", path))
        raise GraphError(self.message, status=400, code="Request_BadRequest")

    def list(self, path, api="beta", params=None):
        self.calls.append(("GET", path))
        return [{"id": i} for i in self.listed]


class Ctx(object):
    def __init__(self, client):
        self.client = client


@pytest.mark.parametrize("message, listed, accepted", [
    ("One or more added object references already exist for the following modified properties: 'members'.", [], True),
    ("Bad request.", [USER], True),        # other wording, but the member is there: the add reached its goal
    ("Bad request.", [], False),           # other wording and not a member: a real failure, reported
])
def test_a_400_to_a_member_add_is_success_only_when_the_object_is_a_member(message, listed, accepted):
    members = mod.Members()
    members.labels[USER] = "anna@contoso.com"
    ctx = Ctx(Client(message, listed))
    if accepted:
        members.apply(ctx, GROUP, {USER: None}, {})
    else:
        with pytest.raises(EngineError) as err:
            members.apply(ctx, GROUP, {USER: None}, {})
        assert str(err.value).startswith("Failed to add member 'anna@contoso.com' to group 'Pilot users': ")


class Directory(object):
    """Groups found by ``$filter=displayName eq``; records every call."""

    graph_url = "https://graph.test"

    def __init__(self, *groups):
        self.groups = dict((g["id"], dict(g)) for g in groups)
        self.calls = []

    def list(self, path, api="v1.0", params=None, headers=None):
        self.calls.append(("GET", path, params))
        if path == "/groups":
            name = params["$filter"].split("'")[1]
            return [dict(g) for g in self.groups.values() if g["displayName"].lower() == name.lower()]
        raise AssertionError(path)

    def get(self, path, api="v1.0", params=None, headers=None):
        return dict(self.groups[path.rsplit("/", 1)[-1]])

    def patch(self, path, json, api="v1.0", headers=None):
        self.calls.append(("PATCH", path, json))
        self.groups[path.rsplit("/", 1)[-1]].update(json)

    def writes(self):
        return [c for c in self.calls if c[0] != "GET"]


class Module(object):
    check_mode = False

    def __init__(self, client, **params):
        self.client = client
        self.params = dict(display_name="Autopilot devices - Berlin", id=None, state="present", description=None,
                           mail_nickname=None, membership_rule=None, all_autopilot_devices=None, autopilot_group_tag=None,
                           membership_rule_processing_state=None, members=None, delete_assigned=False,
                           check_mode_missing="fail", wait_timeout=120)
        self.params.update(params)
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


def ensure_group(directory, **params):
    from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import Context, ensure
    return ensure(Context(Module(directory, **params), mod.resource()))


DYNAMIC = {"id": "g-ber", "displayName": "Autopilot devices - Berlin", "groupTypes": ["DynamicMembership"],
           "membershipRuleProcessingState": "On", "mailNickname": "ber"}


@pytest.mark.parametrize("held, options", [
    # as real tenants hold them: without the parentheses around the item condition, other operator case
    ('device.devicePhysicalIds -any _ -eq "[OrderID]:BER"', dict(autopilot_group_tag="BER")),
    ('(device.devicePhysicalIDs -Any (_ -EQ "[orderid]:ber"))', dict(autopilot_group_tag="BER")),
    ('(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))', dict(all_autopilot_devices=True)),
    ('(device.deviceOSType -eq "Windows") and (device.deviceOwnership -eq "Company")',
     dict(membership_rule='(device.deviceOwnership -eq "Company") -and (device.deviceOSType -eq "Windows")')),
])
def test_a_rule_that_means_the_same_is_adopted_without_change(held, options):
    directory = Directory(dict(DYNAMIC, membershipRule=held))
    result = ensure_group(directory, **options)
    assert result["changed"] is False and directory.writes() == []


@pytest.mark.parametrize("held, options", [
    # memdocs' older pages and many scripts: -contains "[ZTDId]" selects the same devices as today's -startsWith
    ('(device.devicePhysicalIDs -any (_ -contains "[ZTDId]"))', dict(all_autopilot_devices=True)),
    ('device.devicePhysicalIds -any _ -startsWith "[ZTDID]"', dict(all_autopilot_devices=True)),
    # the tag of the rule, compared without case; a one-item -in list
    ('(device.devicePhysicalIds -any (_ -eq "[OrderID]:ber"))', dict(autopilot_group_tag="BER")),
    ('(device.devicePhysicalIds -any (_ -in ["[OrderID]:BER"]))', dict(autopilot_group_tag="BER")),
])
def test_an_autopilot_rule_of_another_form_is_adopted_without_change(held, options):
    directory = Directory(dict(DYNAMIC, membershipRule=held))
    result = ensure_group(directory, **options)
    assert result["changed"] is False and directory.writes() == []
    assert result["diff"]["before"]["membershipRule"] == result["diff"]["after"]["membershipRule"] == held


@pytest.mark.parametrize("held, options", [
    ('(device.devicePhysicalIds -any (_ -startsWith "[OrderID]:BER"))', dict(autopilot_group_tag="BER")),  # a prefix
    ('(device.devicePhysicalIds -any (_ -eq "[OrderID]:BER"))', dict(all_autopilot_devices=True)),
    ('(device.devicePhysicalIds -any (_ -contains "[ZTDId]"))', dict(autopilot_group_tag="BER")),
    # membership_rule is the text asked for: compared by meaning alone
    ('(device.devicePhysicalIDs -any (_ -contains "[ZTDId]"))',
     dict(membership_rule='(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))')),
])
def test_an_autopilot_rule_that_selects_other_devices_is_rewritten(held, options):
    directory = Directory(dict(DYNAMIC, membershipRule=held))
    result = ensure_group(directory, **options)
    assert result["changed"] is True and [c[2] for c in directory.writes()] == [{"membershipRule": mod.desired_rule(
        dict(dict.fromkeys(mod.RULE_OPTIONS), **options))[1]}]


@pytest.mark.parametrize("held, given", [(None, ""), ("", None), (None, None), ("", "")])
def test_a_blank_description_held_as_null_or_empty_is_not_a_change(held, given):
    """The portal leaves a blank description null, the role writes '': the same value (_graph_resource, ``text``)."""
    directory = Directory(dict(DYNAMIC, membershipRule='(device.devicePhysicalIds -any (_ -eq "[OrderID]:BER"))',
                               description=held))
    result = ensure_group(directory, autopilot_group_tag="BER", description=given)
    assert result["changed"] is False and directory.writes() == []


def test_a_description_written_over_a_null_one_is_a_change():
    directory = Directory(dict(DYNAMIC, membershipRule='(device.devicePhysicalIds -any (_ -eq "[OrderID]:BER"))',
                               description=None))
    result = ensure_group(directory, autopilot_group_tag="BER", description="Berlin laptops")
    assert result["changed"] is True and [c[2] for c in directory.writes()] == [{"description": "Berlin laptops"}]


def test_a_rule_that_means_something_else_is_one_patch():
    directory = Directory(dict(DYNAMIC, membershipRule='(device.devicePhysicalIds -any (_ -eq "[OrderID]:LYS"))'))
    result = ensure_group(directory, autopilot_group_tag="BER")
    assert result["changed"] is True
    assert directory.writes() == [("PATCH", "/groups/g-ber",
                                   {"membershipRule": '(device.devicePhysicalIds -any (_ -eq "[OrderID]:BER"))'})]


def test_a_group_tag_with_a_double_quote_is_escaped():
    assert mod.desired_rule({"autopilot_group_tag": 'A"B'})[1] == '(device.devicePhysicalIds -any (_ -eq "[OrderID]:A\\"B"))'


def test_every_problem_of_a_rule_is_named_before_any_write():
    from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import EngineError
    directory = Directory(dict(DYNAMIC, membershipRule='(device.devicePhysicalIds -any (_ -eq "[OrderID]:BER"))'))
    with pytest.raises(EngineError) as err:
        ensure_group(directory, membership_rule='(device.deviceOSType -eq "Windows") -and (user.city -eq "Berlin")',
                     mail_nickname="has space")
    assert [p.split(":")[0] for p in err.value.extra["problems"]] == ["mail_nickname", "membership_rule"]
    assert "mixes user properties" in err.value.extra["problems"][1]
    assert directory.writes() == []

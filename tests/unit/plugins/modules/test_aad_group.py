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

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The resolver: names to ids (none, one or several matches), ids checked, every problem of a list at once,
placeholders in check mode, names for ids with the lenient mode of the _info modules, lists read once. No network."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import EngineError, Problems
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_lookup import Resolver, Unresolved

G1 = "11111111-1111-1111-1111-111111111111"
TAGS = [{"id": "0", "displayName": "Default"}, {"id": "1", "displayName": "Site-Paris"}, {"id": "2", "displayName": "Twin"},
        {"id": "3", "displayName": "twin"}]


class Client(object):
    def __init__(self, forbidden=()):
        self.calls = []
        self.forbidden = forbidden

    def list(self, path, api="beta", params=None, headers=None):
        self.calls.append((path, params))
        if path in self.forbidden:
            raise GraphError("Insufficient privileges", status=403, code="Forbidden")
        if path == "/deviceManagement/roleScopeTags":
            return [dict(t) for t in TAGS]
        if path == "/groups":
            name = params["$filter"].split("'")[1]
            return [{"id": G1, "displayName": "Autopilot devices"}] if name.lower() == "autopilot devices" else []
        raise AssertionError(path)

    def get_or_none(self, path, api="beta", params=None, headers=None):
        self.calls.append((path, None))
        if path in self.forbidden or path.rsplit("/", 1)[0] in self.forbidden:
            raise GraphError("Insufficient privileges", status=403, code="Forbidden")
        return {"id": G1, "displayName": "Autopilot devices"} if path.endswith(G1) else None


class Module(object):
    def __init__(self, client, check_mode=False, missing="fail"):
        self.client = client
        self.check_mode = check_mode
        self.params = {"check_mode_missing": missing}
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


def test_a_name_resolves_to_its_one_object_and_a_guid_is_checked():
    resolver = Resolver(Module(Client()))
    assert resolver.id("group", " Autopilot devices ", "assignments[0].group") == G1
    assert resolver.id("group", G1, "assignments[0].group") == G1
    with pytest.raises(EngineError, match=r"^members\[1\]: no group with id '22222222-.*' exists\.$"):
        resolver.id("group", "22222222-2222-2222-2222-222222222222", "members[1]")


def test_none_or_several_matches_are_errors_that_say_so():
    resolver = Resolver(Module(Client()))
    with pytest.raises(EngineError) as err:
        resolver.id("scope tag", "TWIN", "scope_tags[0]")
    assert err.value.msg == "scope_tags[0]: 2 scope tags are named 'TWIN' (ids: 2, 3); use the id of the one you mean."
    with pytest.raises(EngineError) as err:
        resolver.id("group", "Nope", "assignments[0].group")
    assert err.value.msg == "assignments[0].group: no group named 'Nope' was found."


def test_ids_collects_every_problem_of_a_list_and_reads_the_list_once():
    client = Client()
    resolver = Resolver(Module(client))
    problems = Problems()
    assert resolver.ids("scope tag", ["Site-Paris", "", "Missing", "0", "site-paris"], "scope_tags", problems) == ["1", "0"]
    assert problems.items == ["scope_tags[1]: the entry is empty; give the scope tag's display name or id.",
                              "scope_tags[2]: no scope tag named 'Missing' was found."]
    assert [c[0] for c in client.calls] == ["/deviceManagement/roleScopeTags"]
    assert resolver.name("scope tag", "1") == "Site-Paris" and len(client.calls) == 1


@pytest.mark.parametrize("missing, placeholder", [("warn", True), ("fail", False)])
def test_check_mode_placeholder_only_when_asked(missing, placeholder):
    module = Module(Client(), check_mode=True, missing=missing)
    resolver = Resolver(module)
    if placeholder:
        obj_id = resolver.id("group", "Made later", "assignments[0].group")
        assert isinstance(obj_id, Unresolved) and resolver.name("group", obj_id) == "Made later"
        assert module.warnings == ["assignments[0].group: no group named 'Made later' exists yet; check mode assumes an "
                                   "earlier task creates it."]
    else:
        with pytest.raises(EngineError, match="set check_mode_missing: warn"):
            resolver.id("group", "Made later", "assignments[0].group")


def test_names_without_permission_are_ids_with_one_warning_in_lenient_mode():
    module = Module(Client(forbidden=("/deviceManagement/roleScopeTags",)))
    resolver = Resolver(module)
    assert [resolver.name("scope tag", i, lenient=True) for i in ("0", "1")] == ["0", "1"]
    assert len(module.warnings) == 1 and module.warnings[0].startswith("Could not read scope tag names (")
    with pytest.raises(GraphError):
        Resolver(module).name("scope tag", "0")


def test_known_is_what_this_run_read():
    resolver = Resolver(Module(Client()))
    assert resolver.known("group", G1) == {}
    resolver.id("group", "Autopilot devices", "x")
    assert resolver.known("group", G1)["displayName"] == "Autopilot devices"

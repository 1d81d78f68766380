# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine's plan, check mode, diff and relationship handling, against an in-memory collection."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import re

import pytest

from ansible_collections.intune.autopilot.plugins.module_utils import _graph_resource as engine
from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import (
    Context, EngineError, GraphResource, Prop, Relationship, ensure, wait_for)


class FakeClient(object):
    """A tiny Graph: one collection at /things, ``$filter=displayName eq '...'`` only."""

    graph_url = "https://graph.example"

    def __init__(self, items=()):
        self.items = dict((i["id"], copy.deepcopy(i)) for i in items)
        self.calls = []
        self.counter = 0

    def list(self, path, api="beta", params=None, headers=None):
        self.calls.append(("GET", path, params))
        items = list(self.items.values())
        flt = (params or {}).get("$filter")
        if flt:
            name = re.match(r"displayName eq '(.*)'$", flt).group(1).replace("''", "'")
            items = [i for i in items if i["displayName"].lower() == name.lower()]
        return copy.deepcopy(items)

    def get_or_none(self, path, api="beta", params=None, headers=None):
        self.calls.append(("GET", path, None))
        return copy.deepcopy(self.items.get(path.rsplit("/", 1)[-1]))

    def get(self, path, api="beta", params=None, headers=None):
        return self.get_or_none(path, api)

    def post(self, path, json=None, api="beta", headers=None, probe=None):
        self.calls.append(("POST", path, json))
        self.counter += 1
        obj = dict(json, id="id-%d" % self.counter)
        obj.pop("@odata.type", None)
        self.items[obj["id"]] = obj
        return copy.deepcopy(obj)

    def patch(self, path, json, api="beta", headers=None):
        self.calls.append(("PATCH", path, json))
        self.items[path.rsplit("/", 1)[-1]].update(dict((k, v) for k, v in json.items() if k != "@odata.type"))

    def delete(self, path, api="beta", headers=None, missing_ok=True):
        self.calls.append(("DELETE", path, None))
        return self.items.pop(path.rsplit("/", 1)[-1], None) is not None

    def writes(self):
        return [c for c in self.calls if c[0] != "GET"]


class FakeModule(object):
    def __init__(self, client, params, check_mode=False):
        self.client = client
        self.params = params
        self.check_mode = check_mode
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


class Tags(Relationship):
    """A relationship kept in the object's ``tags`` list, written by one call per added/removed tag."""

    name = "tags"
    clear_before_delete = True

    def desired(self, ctx):
        tags = ctx.params.get("tags")
        return None if tags is None else dict((t, None) for t in tags)

    def current(self, ctx, obj):
        return dict((t, None) for t in obj.get("tags", []))

    def apply(self, ctx, obj, desired, current):
        for tag in sorted(set(desired) - set(current)):
            ctx.client.post("/things/%s/tags" % obj["id"], json={"tag": tag})
        for tag in sorted(set(current) - set(desired)):
            ctx.client.delete("/things/%s/tags/%s" % (obj["id"], tag))


def resource(writer_calls=None):
    def set_priority(ctx, obj, value):
        writer_calls.append((obj["id"], value))

    return GraphResource(
        name="thing", path="/things", odata_type="#microsoft.graph.thing",
        props=[
            Prop("description", "description"),
            Prop("colors", "colors", kind="set"),
            Prop("settings", "settings", kind="object"),
            Prop("priority", "priority", writer=set_priority),
        ],
        relationships=[Tags()],
    )


def run(client, params, check_mode=False, writer_calls=None):
    base = dict(display_name="Alpha", id=None, state="present", description=None, colors=None,
                settings=None, priority=None, tags=None)
    base.update(params)
    module = FakeModule(client, base, check_mode)
    return ensure(Context(module, resource([] if writer_calls is None else writer_calls))), module


EXISTING = {"id": "t1", "displayName": "Alpha", "description": "old", "colors": ["red", "blue"],
            "settings": {"a": 1, "b": 2}, "nickname": "alpha", "priority": 3, "tags": ["x"]}


def test_create_check_mode_predicts_without_id_and_writes_nothing():
    client = FakeClient()
    result, _dummy = run(client, dict(description="new", colors=["red"]), check_mode=True)
    assert result["changed"] is True
    assert "id" not in result["thing"]
    assert result["thing"]["description"] == "new"
    # The diff of a create shows the whole POST body (here also the natural key), never @odata.type.
    assert result["diff"] == {"before": {}, "after": {"displayName": "Alpha", "description": "new", "colors": ["red"]}}
    assert client.writes() == []


def test_create_sends_odata_type_and_reads_back():
    client = FakeClient()
    calls = []
    result, _dummy = run(client, dict(description="new", priority=2, tags=["a"]), writer_calls=calls)
    posts = [c for c in client.writes() if c[0] == "POST"]
    assert posts[0] == ("POST", "/things", {"description": "new", "displayName": "Alpha", "@odata.type": "#microsoft.graph.thing"})
    assert posts[1][1] == "/things/id-1/tags"
    assert calls == [("id-1", 2)]
    assert result["thing"]["id"] == "id-1"
    assert result["tags"] == ["a"]


def test_unchanged_when_only_set_options_match():
    client = FakeClient([EXISTING])
    result, _dummy = run(client, dict(description="old", colors=["blue", "red", "red"], settings={"a": 1}, tags=["x"]))
    assert result["changed"] is False
    assert client.writes() == []
    assert result["diff"]["before"] == result["diff"]["after"]


def test_patch_sends_only_the_differing_keys():
    client = FakeClient([EXISTING])
    result, _dummy = run(client, dict(description="old", colors=["red"], settings={"b": 5, "c": None}))
    assert client.writes() == [("PATCH", "/things/t1", {"colors": ["red"], "settings": {"a": 1, "b": 5},
                                                        "@odata.type": "#microsoft.graph.thing"})]
    assert result["diff"]["before"]["colors"] == ["blue", "red"]
    assert result["diff"]["after"]["colors"] == ["red"]
    assert client.items["t1"]["settings"] == {"a": 1, "b": 5}


def test_check_mode_update_predicts_and_writes_nothing():
    client = FakeClient([EXISTING])
    calls = []
    result, _dummy = run(client, dict(description="new", priority=1, tags=["y"]), check_mode=True, writer_calls=calls)
    assert result["changed"] is True
    assert result["thing"]["description"] == "new"
    assert result["thing"]["id"] == "t1"
    assert result["diff"]["after"]["tags"] == ["y"] and result["diff"]["before"]["tags"] == ["x"]
    assert client.writes() == [] and calls == []


def test_writer_props_are_not_patched():
    client = FakeClient([EXISTING])
    calls = []
    result, _dummy = run(client, dict(priority=1), writer_calls=calls)
    assert client.writes() == []
    assert calls == [("t1", 1)]
    assert result["changed"] is True
    assert result["diff"] == {"before": {"priority": 3}, "after": {"priority": 1}}


def test_relationship_add_and_remove():
    client = FakeClient([EXISTING])
    result, _dummy = run(client, dict(tags=["y"]))
    assert client.writes() == [("POST", "/things/t1/tags", {"tag": "y"}), ("DELETE", "/things/t1/tags/x", None)]
    assert result["changed"] is True


def test_ambiguous_name_fails_and_names_the_count():
    client = FakeClient([EXISTING, dict(EXISTING, id="t2")])
    with pytest.raises(EngineError) as err:
        run(client, dict(description="x"))
    assert "Found 2 things named 'Alpha'" in err.value.msg
    assert client.writes() == []


def test_absent_clears_relationships_then_deletes():
    client = FakeClient([EXISTING])
    result, _dummy = run(client, dict(state="absent"))
    assert client.writes() == [("DELETE", "/things/t1/tags/x", None), ("DELETE", "/things/t1", None)]
    assert result["changed"] is True and result["thing"] is None


def test_absent_when_missing_is_unchanged_and_check_mode_writes_nothing():
    client = FakeClient([EXISTING])
    result, _dummy = run(client, dict(state="absent"), check_mode=True)
    assert result["changed"] is True and client.writes() == []
    result, _dummy = run(FakeClient(), dict(state="absent"))
    assert result["changed"] is False


def test_odata_quote_doubles_single_quotes():
    client = FakeClient([dict(EXISTING, displayName="O'Brien devices")])
    result, _dummy = run(client, dict(display_name="O'Brien devices", description="old"))
    assert result["changed"] is False
    assert ("GET", "/things", {"$filter": "displayName eq 'O''Brien devices'"}) in client.calls


def test_wait_for_times_out_with_last_seen():
    now = [0.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    with pytest.raises(EngineError) as err:
        wait_for(lambda: (False, "2 pending"), 10, "the import", interval=2, sleep=sleep, clock=lambda: now[0])
    assert "last seen: 2 pending" in err.value.msg
    assert sum(sleeps) == pytest.approx(10)
    assert sleeps[1] > sleeps[0]


def test_wait_for_returns_when_done():
    states = iter([(False, "a"), (True, "b")])
    assert wait_for(lambda: next(states), 5, "x", sleep=lambda s: None) == "b"


def test_clean_drops_odata_context_only():
    assert engine.clean({"@odata.context": "x", "@odata.type": "y", "id": "1"}) == {"@odata.type": "y", "id": "1"}


def test_text_kind_takes_null_and_empty_for_the_same_value():
    text, scalar = Prop("description", "description", kind="text"), Prop("message", "message")
    assert text.equal("", None) and text.equal(None, "") and text.equal("a", "a")
    assert not text.equal("a", None) and not text.equal("", "a")
    assert not scalar.equal("", None)   # only the props declared text


def test_adopt_keeps_a_held_value_the_options_accept():
    resource = GraphResource("thing", "/things", props=[
        Prop("rule", "rule", adopt=lambda params, have: params.get("any_form") and (have or "").startswith("ok"))])
    client = FakeClient([{"id": "t1", "displayName": "Alpha", "rule": "ok, another form"}])
    for any_form, writes in ((True, []), (False, [("PATCH", "/things/t1", {"rule": "ok"})])):
        module = FakeModule(client, dict(display_name="Alpha", id=None, state="present", rule="ok", any_form=any_form))
        result = ensure(Context(module, resource))
        assert client.writes() == writes and result["changed"] is bool(writes)


def test_listing_is_read_once_and_collection_applies_match():
    client = FakeClient([{"id": "a", "displayName": "A", "kind": "mine"}, {"id": "b", "displayName": "B", "kind": "other"}])
    ctx = Context(FakeModule(client, {}), GraphResource("thing", "/things", match=lambda i: i["kind"] == "mine"))
    assert [i["id"] for i in ctx.listing()] == ["a", "b"]
    assert [i["id"] for i in ctx.collection()] == ["a"] and [i["id"] for i in ctx.collection()] == ["a"]
    assert [c for c in client.calls if c[0] == "GET"] == [("GET", "/things", None)]

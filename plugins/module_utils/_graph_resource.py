# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The resource engine: find, normalize, compare, plan, apply, result.

Internal to this collection; it may change in any release.

A module declares one :class:`GraphResource` (where the resource lives, how it is found, which
options map to which Graph properties, which relationships it manages) and calls :func:`ensure`
or :func:`info`. The engine does the rest the same way for every module:

1. find the current object by ``id`` or by its natural key (a name); more than one match is an error;
2. build the desired properties from the options the user set (``None`` means "leave as it is");
3. compare them with the current object after normalizing both sides, and plan the writes:
   create, a PATCH with only the differing keys, property writers (such as ``setPriority``),
   relationship changes (members, assignments), or delete;
4. in check mode stop before the first write and return the predicted object;
5. otherwise apply the plan, read the object back and return it as Graph returns it, with
   ``diff: {before, after}`` limited to the keys the user manages.

See docs/developing.md for the declaration keys.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import EngineError, clean, odata_quote, wait_for
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError


class Prop(object):
    """One option mapped to one Graph property.

    ``kind`` is ``scalar`` (compared as is), ``set`` (a list compared without order or duplicates),
    ``ci`` (a string compared without regard to case) or ``object`` (a dict compared key by key:
    only the keys the user set). ``create_only`` properties are sent on create and never patched
    (a difference is reported as a warning). ``writer`` is a function ``writer(ctx, obj, value)``
    for properties that Graph changes through an action rather than PATCH (``setPriority``).
    ``read`` maps the current object to the comparable value when Graph returns it under another
    shape or name (deprecated property names).
    """

    def __init__(self, option, prop, kind="scalar", create_only=False, writer=None, read=None):
        self.option = option
        self.prop = prop
        self.kind = kind
        self.create_only = create_only
        self.writer = writer
        self.read = read

    def current(self, obj):
        return self.read(obj) if self.read else obj.get(self.prop)

    def equal(self, want, have):
        if self.kind == "set":
            return sorted(set(want or [])) == sorted(set(have or []))
        if self.kind == "ci":
            return (want or "").lower() == (have or "").lower()
        if self.kind == "object":
            have = have or {}
            return all(have.get(k) == v for k, v in want.items() if v is not None)
        return want == have

    def view(self, value):
        """The value as the diff shows it (sets sorted, so that order never looks like a change)."""
        if self.kind == "set" and value is not None:
            return sorted(set(value))
        return value

    def merged(self, want, have):
        """The value the object will have after the write (for ``object``, only set keys change)."""
        if self.kind == "object":
            result = dict(have or {})
            result.update(dict((k, v) for k, v in want.items() if v is not None))
            return result
        return want


class Relationship(object):
    """A list the resource owns beside its properties (members, assignments).

    Subclasses implement ``desired(ctx)`` (``None`` when the user did not set the option, else a dict
    key -> item), ``current(ctx, obj)`` (dict key -> item, read in full) and
    ``apply(ctx, obj, desired, current)`` (the writes). ``describe(ctx, items)`` gives the sorted,
    readable list used in the diff and the result. ``clear_before_delete`` makes ``state: absent``
    empty the relationship before deleting the object (profiles cannot be deleted while assigned).
    """

    name = None
    clear_before_delete = False

    def desired(self, ctx):
        raise NotImplementedError

    def current(self, ctx, obj):
        raise NotImplementedError

    def apply(self, ctx, obj, desired, current):
        raise NotImplementedError

    def describe(self, ctx, items):
        return sorted(str(k) for k in items)

    def differs(self, desired, current):
        return set(desired) != set(current) or any(desired[k] != current[k] for k in desired if k in current)


class GraphResource(object):
    """The declaration of one Graph resource.

    ``name`` names it in messages and is the result key (``group``); ``path`` is its collection
    (``/groups``); ``api`` ``beta`` or ``v1.0``; ``key`` the (option, property) pair of its natural
    key; ``find_by`` is ``filter`` when Graph supports ``$filter=<prop> eq '<value>'`` on it and
    ``list`` when the engine must list the collection and match client-side; ``match`` narrows a
    polymorphic list (a predicate on each item); ``odata_type`` is sent on create and on PATCH;
    ``build(ctx)`` returns extra desired properties computed from several options (and may raise
    :class:`EngineError` for bad input); ``defaults`` (a dict, or a function of ``ctx``) are added to
    the create body only;
    ``props`` and ``relationships`` as above; ``after_create`` is a hook ``(ctx, obj) -> obj``
    (waiting out replication delay, for instance); ``protect`` a predicate on the current object
    that refuses any write to it (built-in objects); ``probe_timeout`` (seconds, or a function of ``ctx``)
    how long a create whose answer was lost (5xx, dropped connection) keeps looking for the object by
    its natural key before sending the create again: 0 (one look) for stores that list a new object at
    once, the replication delay for directory objects (a second look too early makes a duplicate).
    """

    def __init__(self, name, path, api="beta", key=("display_name", "displayName"), find_by="filter", match=None,
                 odata_type=None, build=None, defaults=None, props=(), relationships=(), after_create=None,
                 protect=None, list_params=None, probe_timeout=0):
        self.name = name
        self.path = path
        self.api = api
        self.key_option, self.key_prop = key
        self.find_by = find_by
        self.match = match
        self.odata_type = odata_type
        self.build = build
        self.defaults = defaults or {}
        self.props = list(props)
        self.relationships = list(relationships)
        self.after_create = after_create
        self.protect = protect
        self.list_params = list_params or {}
        self.probe_timeout = probe_timeout

    def item_path(self, obj_id):
        return "%s/%s" % (self.path, obj_id)


class Context(object):
    """What one module run shares: the module, its client, the resolver, check mode."""

    def __init__(self, module, resource, resolver=None):
        self.module = module
        self.resource = resource
        self.params = module.params
        self.check_mode = module.check_mode
        self._resolver = resolver

    @property
    def client(self):
        return self.module.client

    @property
    def resolver(self):
        if self._resolver is None:
            from ansible_collections.intune.autopilot.plugins.module_utils._graph_lookup import Resolver
            self._resolver = Resolver(self.module)
        return self._resolver

    def key_value(self):
        return self.params.get(self.resource.key_option)


# ---------------------------------------------------------------- find

def list_all(ctx, resource=None, params=None):
    """Every object of the collection that the resource's ``match`` accepts."""
    resource = resource or ctx.resource
    query = dict(resource.list_params)
    query.update(params or {})
    items = ctx.client.list(resource.path, api=resource.api, params=query or None)
    return [i for i in items if resource.match is None or resource.match(i)]


def find_by_key(ctx, value, resource=None):
    """All objects whose natural key equals ``value`` (Graph compares names without case)."""
    resource = resource or ctx.resource
    if resource.find_by == "filter":
        items = list_all(ctx, resource, {"$filter": "%s eq %s" % (resource.key_prop, odata_quote(value))})
    else:
        items = list_all(ctx, resource)
    wanted = value.lower()
    return [i for i in items if (i.get(resource.key_prop) or "").lower() == wanted]


def find_one(ctx, obj_id=None, key=None, resource=None):
    """The one object with ``obj_id`` or natural key ``key``; ``None`` when none; an error when several."""
    resource = resource or ctx.resource
    if obj_id:
        obj = ctx.client.get_or_none(resource.item_path(obj_id), api=resource.api)
        if obj is not None and resource.match is not None and not resource.match(obj):
            raise EngineError("The object with id '%s' is not a %s." % (obj_id, resource.name))
        return obj
    found = find_by_key(ctx, key, resource)
    if len(found) > 1:
        raise EngineError(
            "Found %d %ss named '%s' (ids: %s); names must be unique to be managed. Pass the id instead, or "
            "remove the duplicates." % (len(found), resource.name, key, ", ".join(sorted(o["id"] for o in found))),
            ids=sorted(o["id"] for o in found))
    return found[0] if found else None


def find_current(ctx):
    """The object the module's options name: by ``id`` when given, else by its natural key (:func:`find_one`).

    :func:`ensure` starts with it; a module calls it too for a check that needs the current object before any write.
    """
    return find_one(ctx, obj_id=ctx.params.get("id"), key=ctx.key_value())


# ---------------------------------------------------------------- plan

def desired_props(ctx):
    """The properties the user set (camelCase), with values as Graph expects them."""
    desired = {}
    for prop in ctx.resource.props:
        value = ctx.params.get(prop.option)
        if value is None:
            continue
        if prop.kind == "object":
            value = dict((k, v) for k, v in value.items() if v is not None)
            if not value:
                continue
        desired[prop.prop] = value
    if ctx.resource.build:
        desired.update(ctx.resource.build(ctx) or {})
    return desired


def _prop_for(resource, name):
    for prop in resource.props:
        if prop.prop == name:
            return prop
    return Prop(name, name)


def compare(resource, desired, current):
    """``(patch, writes, warnings)``: the keys PATCH must send, the writer props, create-only drifts."""
    patch, writes, warnings = {}, [], []
    for name, want in desired.items():
        prop = _prop_for(resource, name)
        if prop.equal(want, prop.current(current)):
            continue
        if prop.writer:
            writes.append((prop, want))
        elif prop.create_only:
            warnings.append("'%s' cannot be changed after creation; %r is kept (wanted %r)."
                            % (prop.option, prop.current(current), want))
        else:
            patch[name] = prop.merged(want, prop.current(current))
    return patch, writes, warnings


def diff_view(resource, desired, obj):
    """The managed keys of ``obj`` as the diff shows them."""
    if not obj:
        return {}
    return dict((name, _prop_for(resource, name).view(_prop_for(resource, name).current(obj))) for name in desired)


def predicted(resource, desired, current):
    """The object as it will be after the plan (check mode's answer)."""
    result = clean(dict(current or {}))
    for name, want in desired.items():
        prop = _prop_for(resource, name)
        result[name] = prop.merged(want, prop.current(result) if current else None)
    return result


# ---------------------------------------------------------------- apply

def create_body(ctx, desired):
    """``(body, writes)``: the POST body (defaults completed by what the user set, the natural key,
    ``@odata.type``) and the writer properties to apply after the create."""
    resource = ctx.resource
    body = dict(resource.defaults(ctx) if callable(resource.defaults) else resource.defaults)
    writes = []
    for name, value in desired.items():
        prop = _prop_for(resource, name)
        if prop.writer:
            writes.append((prop, value))
        else:
            # An object default is completed, not replaced, by the keys the user set.
            body[name] = prop.merged(value, body.get(name))
    if resource.odata_type:
        body["@odata.type"] = resource.odata_type
    key = ctx.key_value()
    if key is not None:
        # The natural key is a property of the new object (a group's or a profile's displayName).
        body.setdefault(resource.key_prop, key)
    return body, writes


def _create(ctx, desired):
    resource = ctx.resource
    body, writes = create_body(ctx, desired)
    key = ctx.key_value()

    def look():
        found = find_by_key(ctx, key)
        return found[0] if len(found) == 1 else None

    def probe():
        """Was the create applied although its answer was lost? ``None``: not applied, send it again.

        A directory lists a new object only after replication (group-get.md, "replication delay"), so one
        empty look right after the failure does not prove the create was lost: look again until
        ``probe_timeout`` has passed. Found by tests/integration/test_faults.py (a 500 after the create was
        applied, with a replication delay longer than the retry's first look, made a second group)."""
        obj = look()
        timeout = resource.probe_timeout(ctx) if callable(resource.probe_timeout) else resource.probe_timeout
        if obj is not None or not timeout:
            return obj

        def check():
            found = look()
            return found is not None, found

        try:
            return wait_for(check, timeout, "the %s '%s'" % (resource.name, key), interval=1.0)
        except EngineError:
            return None

    try:
        obj = ctx.client.post(resource.path, json=body, api=resource.api, probe=probe)
    except GraphError as exc:
        raise _graph_failure("create", resource, key, exc)
    if resource.after_create:
        obj = resource.after_create(ctx, obj) or obj
    return obj, writes


def _graph_failure(verb, resource, key, exc):
    return EngineError("Failed to %s %s '%s': %s" % (verb, resource.name, key, exc), **exc.to_result())


def ensure(ctx):
    """Bring the resource to ``state`` and return the module result."""
    resource, params = ctx.resource, ctx.params
    key = ctx.key_value()
    current = find_current(ctx)
    if current is not None and resource.protect and resource.protect(current):
        raise EngineError("The %s '%s' is built in and is not managed by this module." % (resource.name, key))
    if params.get("state") == "absent":
        return _ensure_absent(ctx, current)

    desired = desired_props(ctx)
    rel_desired = dict((rel.name, rel.desired(ctx)) for rel in resource.relationships)
    result = {"changed": False, "warnings": []}
    before, after = {}, {}

    if current is None:
        before = {}
        # The diff of a create shows everything the POST will carry (the defaults the module completes, the natural
        # key) and the values set by writers after it, not only the options the user set.
        body, writes = create_body(ctx, desired)
        after = dict((name, _prop_for(resource, name).view(value)) for name, value in body.items() if not name.startswith("@"))
        after.update((prop.prop, prop.view(value)) for prop, value in writes)
        result["changed"] = True
        if ctx.check_mode:
            obj = dict(body)
            obj.update((prop.prop, value) for prop, value in writes)
        else:
            obj, writes = _create(ctx, desired)
            for prop, value in writes:
                prop.writer(ctx, obj, value)
        rel_current = dict((rel.name, {}) for rel in resource.relationships)
    else:
        patch, writes, warnings = compare(resource, desired, current)
        result["warnings"].extend(warnings)
        changeable = dict((k, v) for k, v in desired.items() if not _prop_for(resource, k).create_only)
        before = diff_view(resource, desired, current)
        after = dict(before)
        for name, want in changeable.items():
            prop = _prop_for(resource, name)
            if not prop.equal(want, before.get(name)):
                after[name] = prop.view(prop.merged(want, before.get(name)))
        obj = current
        if patch or writes:
            result["changed"] = True
            if ctx.check_mode:
                obj = predicted(resource, changeable, current)
            else:
                if patch:
                    body = dict(patch)
                    if resource.odata_type:
                        body["@odata.type"] = resource.odata_type
                    try:
                        ctx.client.patch(resource.item_path(current["id"]), json=body, api=resource.api)
                    except GraphError as exc:
                        raise _graph_failure("update", resource, key, exc)
                for prop, value in writes:
                    prop.writer(ctx, current, value)
        rel_current = dict((rel.name, rel.current(ctx, current) if rel_desired[rel.name] is not None else {})
                           for rel in resource.relationships)

    for rel in resource.relationships:
        want = rel_desired[rel.name]
        if want is None:
            continue
        have = rel_current[rel.name]
        before[rel.name] = rel.describe(ctx, have) if current is not None else []
        after[rel.name] = rel.describe(ctx, want)
        if rel.differs(want, have):
            result["changed"] = True
            if not ctx.check_mode:
                rel.apply(ctx, obj, want, have)

    if result["changed"] and not ctx.check_mode:
        obj = ctx.client.get(resource.item_path(obj["id"]), api=resource.api)
    result[resource.name] = clean(obj)
    result["diff"] = {"before": before if current is not None else {}, "after": after}
    for rel in resource.relationships:
        if rel_desired[rel.name] is not None:
            result[rel.name] = after[rel.name]
    if not result["warnings"]:
        del result["warnings"]
    return result


def _ensure_absent(ctx, current):
    resource = ctx.resource
    result = {"changed": current is not None, resource.name: None, "diff": {"before": {}, "after": {}}}
    if current is None:
        return result
    result["diff"]["before"] = dict((k, current.get(k)) for k in (resource.key_prop, "id"))
    if ctx.check_mode:
        return result
    for rel in resource.relationships:
        if rel.clear_before_delete:
            have = rel.current(ctx, current)
            if have:
                rel.apply(ctx, current, {}, have)
    try:
        ctx.client.delete(resource.item_path(current["id"]), api=resource.api)
    except GraphError as exc:
        raise _graph_failure("delete", resource, ctx.key_value() or current["id"], exc)
    return result


def info(ctx, extra_filter=None):
    """The objects an ``_info`` module returns: by id, by natural key, by a raw ``$filter``, or all."""
    resource, params = ctx.resource, ctx.params
    if params.get("id"):
        obj = find_one(ctx, obj_id=params["id"])
        return [clean(obj)] if obj else []
    key = params.get(resource.key_option)
    if key:
        return [clean(o) for o in find_by_key(ctx, key)]
    query = {}
    if extra_filter:
        query["$filter"] = extra_filter
    return [clean(o) for o in list_all(ctx, params=query)]


# ---------------------------------------------------------------- waits

def wait_until_listed(ctx, obj, timeout=60):
    """After a create: wait until the natural-key lookup finds the new object, so that the next task
    (or a re-run) never creates a second one while the directory replicates."""
    key = obj.get(ctx.resource.key_prop)

    def check():
        ids = [o["id"] for o in find_by_key(ctx, key)]
        return obj["id"] in ids, "%d object(s) named '%s' listed: %s" % (len(ids), key, ids)

    wait_for(check, timeout, "the new %s '%s' to replicate" % (ctx.resource.name, key), interval=1.0)
    return obj


def execute(module, work):
    """Run ``work()`` (which returns the module result) and exit; engine errors become ``fail_json``.

    Graph errors that escape ``work`` and anything unexpected are handled by ``GraphModule.run``.
    """

    def run():
        try:
            result = work()
        except EngineError as exc:
            module.fail_json(msg=exc.msg, **exc.extra)
        for warning in result.pop("warnings", []):
            module.warn(warning)
        module.exit_json(**result)

    module.run(run)

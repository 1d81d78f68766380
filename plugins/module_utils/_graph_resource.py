# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The resource engine: find, plan, check, apply, result.

Internal to this collection; it may change in any release. It knows nothing of Ansible: it reads the module's
``params``, ``check_mode``, ``client`` and ``warn`` and raises :class:`EngineError`, which the one error edge
(``GraphModule.run``) turns into the task's failure.

A resource is declared once (a :class:`GraphResource` with its :class:`Prop` list and :class:`Relationship` list) and
:func:`ensure` or :func:`info` does the rest the same way for every module:

1. ``validate(ctx)``: the checks of the options alone, each problem added to ``ctx.problems``;
2. one read of the current object (by ``id``, by its natural key, or the resource's ``find``);
3. the plan: the desired properties of the options the user set (names resolved to ids, every name that does not
   resolve added to the problems), the create body or the PATCH with only the differing keys, the property writers
   (``setPriority``), the relationships (members, assignments); each ``Prop.check`` runs on a value the plan sends;
4. ``check(ctx, plan)``: the resource's checks that need the current object and the plan (a priority range, a name the
   service refuses, the portal's rules as warnings, what a delete would leave behind);
5. every problem found so far fails the task at once, before any write;
6. check mode stops here and returns the predicted object; otherwise the plan is applied and the object read back.
   The diff holds the managed keys only, with ids of resolved properties shown as names.

See docs/developing.md for the declaration keys.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import (
    EngineError, Problems, clean, odata_quote, wait_for)
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_lookup import Resolver


class Prop(object):
    """One option mapped to one Graph property.

    ``kind``: ``scalar`` (compared as is), ``text`` (a free-text string in which ``null`` and ``""`` are the same
    value, see below), ``set`` (a list compared without order or duplicates), ``ci`` (a string compared without case)
    or ``object`` (a dict compared only on the keys the user set; PATCH sends it merged).
    ``keys``: for an ``object`` option with snake_case suboptions, the ``(suboption, graph key)`` pairs.
    ``resolve``: a kind of the resolver (``app``, ``scope tag``): the option lists names or ids, which compare, write
    and prediction use as ids and the diff and the ``_info`` modules show as names; a name must exist, in check mode too.
    ``value(params)``: the Graph value when it comes from other options than ``option`` alone (several options to one
    property); ``option`` is then the one named in messages.
    ``writer(ctx, obj, value)``: for a property Graph changes through an action (``setPriority``), called when it differs.
    ``read(obj)``: the comparable current value where Graph returns it under another name or shape.
    ``check(value)``: a problem (text) with a value the plan sends, else ``None``; a value the object already holds is
    never refused, because it is never sent.
    ``adopt(params, have)``: True when the value the object holds already does what the options ask, although it
    differs from the value they would write (any rule that selects every Autopilot device, for
    ``all_autopilot_devices``); the object's value is then the desired one, so nothing is sent.

    ``text``: Graph returns ``null`` for a free text nobody wrote and the portal leaves a blank one ``null`` (a group
    created with an empty description field), while tools and this collection's role write ``""`` for the same
    blank; Graph documents no difference between the two. Declared ``text``: the descriptions (group, ESP, profile),
    which only people read. Not ``text``: every string a device or the service acts on (an ESP's
    ``customErrorMessage``, which the device shows; names; templates; rules), where an empty string and no value
    may behave differently and Microsoft does not say they do not.
    """

    def __init__(self, option, prop, kind="scalar", keys=None, resolve=None, value=None, writer=None, read=None,
                 check=None, adopt=None):
        self.option, self.prop, self.kind, self.keys = option, prop, "object" if keys else kind, keys
        self.resolve, self.value, self.writer, self.read, self.check = resolve, value, writer, read, check
        self.adopt = adopt

    def wanted(self, ctx):
        """The desired Graph value from the options, ``None`` when the user left them out."""
        value = self.value(ctx.params) if self.value else ctx.params.get(self.option)
        if value is None:
            return None
        if self.keys:
            value = dict((graph, value[option]) for option, graph in self.keys if value.get(option) is not None)
        if self.kind == "object":
            return dict((k, v) for k, v in value.items() if v is not None) or None
        if self.resolve:
            known = len(ctx.problems)
            ids = ctx.resolver.ids(self.resolve, value, self.option, ctx.problems)
            return ids if len(ctx.problems) == known else None   # a name did not resolve: nothing to plan or check
        return value

    def current(self, obj):
        return self.read(obj) if self.read else obj.get(self.prop)

    def equal(self, want, have):
        if self.kind == "set":
            return sorted(set(want or [])) == sorted(set(have or []))
        if self.kind == "ci":
            return (want or "").lower() == (have or "").lower()
        if self.kind == "text":
            return (want or "") == (have or "")
        if self.kind == "object":
            have = have or {}
            return all(have.get(k) == v for k, v in want.items() if v is not None)
        return want == have

    def view(self, ctx, value, lenient=False):
        """The value as the diff shows it: sets sorted, so that order never looks like a change; resolved ids by name."""
        if value is None or self.kind != "set":
            return value
        if self.resolve:
            return sorted(ctx.resolver.name(self.resolve, v, lenient) for v in set(value))
        return sorted(set(value))

    def merged(self, want, have):
        """The value the object will have after the write (for ``object``, only set keys change)."""
        if self.kind == "object":
            result = dict(have or {})
            result.update(dict((k, v) for k, v in want.items() if v is not None))
            return result
        return want


class Relationship(object):
    """A list the resource owns beside its properties (members, assignments).

    Subclasses implement ``desired(ctx)`` (``None`` when the user did not set the option, else a dict key -> item; names
    that do not resolve go to ``ctx.problems``), ``current(ctx, obj)`` (dict key -> item, read in full) and
    ``apply(ctx, obj, desired, current)`` (the writes). ``describe(ctx, items)`` gives the sorted, readable list used in
    the diff and the result. ``clear_before_delete`` makes ``state: absent`` empty the relationship before deleting
    the object (profiles cannot be deleted while assigned).
    """

    name = None
    clear_before_delete = False

    def desired(self, ctx):
        raise NotImplementedError

    def current(self, ctx, obj):
        raise NotImplementedError

    def apply(self, ctx, obj, desired, current):
        raise NotImplementedError

    def describe(self, ctx, items, lenient=False):
        return sorted(str(k) for k in items)

    def differs(self, desired, current):
        return set(desired) != set(current) or any(desired[k] != current[k] for k in desired if k in current)


class GraphResource(object):
    """The declaration of one Graph resource.

    ``name`` names it in messages and is the result key (``group``); ``path`` is its collection (``/groups``); ``api``
    ``beta`` or ``v1.0``; ``key`` the (option, property) pair of its natural key, which is a property to set (a rename)
    only with ``id`` unless it is declared among ``props`` (then a task found by name also applies a change of case);
    ``find_by`` is ``filter`` when Graph supports ``$filter=<prop> eq '<value>'`` on it and ``list`` when the engine must
    list the collection (once per run) and match client-side; ``match`` narrows a polymorphic list (a predicate on each
    item); ``find(ctx)`` replaces the lookup by id or key (the built-in default ESP); ``odata_type`` is sent on create
    and on PATCH; ``defaults`` (a dict, or a function of ``ctx``) are added to the create body only; ``props`` and
    ``relationships`` as above; ``validate(ctx)`` and ``check(ctx, plan)`` add problems (and warnings) before any
    write, see the module docstring; ``after_create`` is a hook ``(ctx, obj) -> obj`` (waiting out replication delay);
    ``probe_timeout`` (seconds, or a function of ``ctx``) how long a create whose answer was lost (5xx, dropped
    connection) keeps looking for the object by its natural key before sending the create again: 0 (one look) for
    stores that list a new object at once, the replication delay for directory objects (a second look too early
    makes a duplicate).
    """

    def __init__(self, name, path, api="beta", key=("display_name", "displayName"), find_by="filter", match=None,
                 find=None, odata_type=None, defaults=None, props=(), relationships=(), validate=None, check=None,
                 after_create=None, probe_timeout=0):
        self.name, self.path, self.api, (self.key_option, self.key_prop) = name, path, api, key
        self.find_by, self.match, self.find, self.odata_type = find_by, match, find, odata_type
        self.defaults, self.props, self.relationships = defaults or {}, list(props), list(relationships)
        self.validate, self.check, self.after_create, self.probe_timeout = validate, check, after_create, probe_timeout

    def item_path(self, obj_id):
        return "%s/%s" % (self.path, obj_id)

    def prop(self, name):
        """The declared Prop of Graph property ``name`` (a plain scalar one when undeclared)."""
        for prop in self.props:
            if prop.prop == name:
                return prop
        return Prop(name, name)


class Context(object):
    """What one module run shares: the module, its client, the resolver, check mode, the problems found."""

    def __init__(self, module, resource, resolver=None):
        self.module = module
        self.resource = resource
        self.params = module.params
        self.check_mode = module.check_mode
        self.resolver = resolver or Resolver(module)
        self.problems = Problems()
        self._listing = None

    @property
    def client(self):
        return self.module.client

    def warn(self, message):
        self.module.warn(message)

    def key_value(self):
        return self.params.get(self.resource.key_option)

    def label(self, obj=None):
        """The object as messages name it: the key the user gave, else its name, else its id."""
        obj = obj or {}
        return self.key_value() or obj.get(self.resource.key_prop) or obj.get("id")

    def listing(self):
        """Every object of the collection as Graph lists it, ``match`` not applied (checks that look at the other
        kinds a polymorphic collection holds), read once per run."""
        if self._listing is None:
            self._listing = self.client.list(self.resource.path, api=self.resource.api)
        return self._listing

    def collection(self):
        """Every object of the collection that ``match`` accepts, read once per run (for ``find_by="list"`` and checks
        that count or scan the collection); lookups after a write read again (:func:`find_by_key` with ``fresh``)."""
        match = self.resource.match
        return [i for i in self.listing() if match is None or match(i)]


# ---------------------------------------------------------------- find

def list_all(ctx, resource=None, params=None, headers=None):
    """Every object of the collection that the resource's ``match`` accepts (a fresh read)."""
    resource = resource or ctx.resource
    items = ctx.client.list(resource.path, api=resource.api, params=params or None, headers=headers)
    return [i for i in items if resource.match is None or resource.match(i)]


def find_by_key(ctx, value, fresh=False):
    """All objects whose natural key equals ``value`` (Graph compares names without case)."""
    resource = ctx.resource
    if resource.find_by == "filter":
        items = list_all(ctx, params={"$filter": "%s eq %s" % (resource.key_prop, odata_quote(value))})
    else:
        items = list_all(ctx) if fresh else ctx.collection()
    wanted = value.lower()
    return [i for i in items if (i.get(resource.key_prop) or "").lower() == wanted]


def find_one(ctx, obj_id=None, key=None):
    """The one object with ``obj_id`` or natural key ``key``; ``None`` when none; an error when several."""
    resource = ctx.resource
    if obj_id:
        obj = ctx.client.get_or_none(resource.item_path(obj_id), api=resource.api)
        if obj is not None and resource.match is not None and not resource.match(obj):
            raise EngineError("id: the object with id '%s' is not a %s." % (obj_id, resource.name))
        return obj
    found = find_by_key(ctx, key)
    if len(found) > 1:
        ids = sorted(o["id"] for o in found)
        raise EngineError("Found %d %ss named '%s' (ids: %s); names must be unique to be managed. Pass the id instead, "
                          "or remove the duplicates." % (len(found), resource.name, key, ", ".join(ids)), ids=ids)
    return found[0] if found else None


def find_current(ctx):
    """The object the module's options name: the resource's ``find``, else by ``id``, else by natural key."""
    if ctx.resource.find:
        return ctx.resource.find(ctx)
    if not ctx.params.get("id") and ctx.key_value() is None:
        return None   # nothing names the object (validate reports it)
    return find_one(ctx, obj_id=ctx.params.get("id"), key=ctx.key_value())


# ---------------------------------------------------------------- plan

class Plan(object):
    """What :func:`ensure` will do, computed before any write; a resource's ``check(ctx, plan)`` reads it.

    ``current`` (``None``: create), ``desired`` (Graph name -> value of the options set, names resolved), ``body`` (the
    POST, on create), ``patch`` (the differing keys, on update), ``writes`` ((Prop, value) for the writers),
    ``relationships`` (name -> desired items, ``None`` when untouched). ``present`` is False for ``state: absent``.
    """

    def __init__(self, ctx, current):
        self.ctx = ctx
        self.current = current
        self.present = ctx.params.get("state", "present") != "absent"
        self.desired, self.relationships, self.body, self.patch, self.writes = {}, {}, None, {}, []

    def sends(self, name):
        """Whether the plan writes Graph property ``name`` (in the POST, the PATCH or through its writer)."""
        written = self.body if self.current is None else self.patch
        return name in (written or {}) or any(prop.prop == name for prop, _value in self.writes)

    def value(self, name):
        """Graph property ``name`` as the object will hold it after the plan (what it holds now when not planned)."""
        prop = self.ctx.resource.prop(name)
        for writer, value in self.writes:
            if writer.prop == name:
                return value
        if self.current is None:
            return (self.body or {}).get(name)
        have = prop.current(self.current)
        if name in self.desired and not prop.equal(self.desired[name], have):
            return prop.merged(self.desired[name], have)
        return have


def desired_props(ctx, current=None):
    """The properties the user set (Graph names), with values as Graph expects them (names resolved to ids); a value
    of ``current`` that its Prop's ``adopt`` accepts stays as it is."""
    resource = ctx.resource
    desired = {}
    for prop in resource.props:
        value = prop.wanted(ctx)
        if value is not None and current is not None and prop.adopt and prop.adopt(ctx.params, prop.current(current)):
            value = prop.current(current)
        if value is not None:
            desired[prop.prop] = value
    declared = set(p.prop for p in resource.props)
    if ctx.params.get("id") and ctx.key_value() is not None and resource.key_prop not in declared:
        desired[resource.key_prop] = ctx.key_value()   # found by id: the name is a property to set (a rename)
    return desired


def compare(resource, desired, current):
    """``(patch, writes)``: the keys PATCH must send and the writer props whose value differs."""
    patch, writes = {}, []
    for name, want in desired.items():
        prop = resource.prop(name)
        have = prop.current(current)
        if prop.equal(want, have):
            continue
        if prop.writer:
            writes.append((prop, want))
        else:
            patch[name] = prop.merged(want, have)
    return patch, writes


def create_body(ctx, desired):
    """``(body, writes)``: the POST body (defaults completed by what the user set, the natural key, ``@odata.type``) and
    the writer properties to apply after the create."""
    resource = ctx.resource
    body = dict(resource.defaults(ctx) if callable(resource.defaults) else resource.defaults)
    writes = []
    for name, value in desired.items():
        prop = resource.prop(name)
        if prop.writer:
            writes.append((prop, value))
        else:
            body[name] = prop.merged(value, body.get(name))   # an object default is completed by the keys the user set
    if resource.odata_type:
        body["@odata.type"] = resource.odata_type
    if ctx.key_value() is not None:
        body.setdefault(resource.key_prop, ctx.key_value())
    return body, writes


def plan(ctx):
    """Validate, read once, plan and check; raise one :class:`EngineError` naming every problem, before any write."""
    resource, problems = ctx.resource, ctx.problems
    if resource.validate:
        resource.validate(ctx)
    try:
        current = find_current(ctx)
    except EngineError as exc:
        if not problems:
            raise
        problems.add(exc.msg)
        problems.check()
    result = Plan(ctx, current)
    if result.present:
        result.desired = desired_props(ctx, current)
        result.relationships = dict((rel.name, rel.desired(ctx)) for rel in resource.relationships)
        if current is None:
            result.body, result.writes = create_body(ctx, result.desired)
        else:
            result.patch, result.writes = compare(resource, result.desired, current)
        for prop in resource.props:
            problem = prop.check(result.value(prop.prop)) if prop.check and result.sends(prop.prop) else None
            if problem:
                problems.add("%s: %s" % (prop.option, problem))
    if resource.check:
        resource.check(ctx, result)
    problems.check()
    return result


# ---------------------------------------------------------------- apply

def _graph_failure(verb, ctx, obj, exc):
    return EngineError("Failed to %s %s '%s': %s" % (verb, ctx.resource.name, ctx.label(obj), exc), **exc.to_result())


def _create(ctx, body):
    resource = ctx.resource
    key = ctx.key_value()

    def look():
        found = find_by_key(ctx, key, fresh=True)
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
        raise _graph_failure("create", ctx, body, exc)
    if resource.after_create:
        obj = resource.after_create(ctx, obj) or obj
    return obj


def _view(ctx, name, value):
    return ctx.resource.prop(name).view(ctx, value)


def ensure(ctx):
    """Bring the resource to ``state`` and return the module result."""
    work = plan(ctx)
    if not work.present:
        return _ensure_absent(ctx, work.current)
    resource, current = ctx.resource, work.current
    result = {"changed": current is None or bool(work.patch or work.writes)}
    if current is None:
        # The diff of a create shows everything the POST will carry (the defaults the module completes, the natural key)
        # and the values set by writers after it, not only the options the user set.
        before = {}
        after = dict((name, _view(ctx, name, v)) for name, v in work.body.items() if not name.startswith("@"))
        after.update((prop.prop, prop.view(ctx, value)) for prop, value in work.writes)
        obj = dict(work.body)
        obj.update((prop.prop, value) for prop, value in work.writes)
        if not ctx.check_mode:
            obj = _create(ctx, work.body)
            for prop, value in work.writes:
                prop.writer(ctx, obj, value)
    else:
        before = dict((name, _view(ctx, name, resource.prop(name).current(current))) for name in work.desired)
        after = dict((name, _view(ctx, name, work.value(name))) for name in work.desired)
        obj = current
        if ctx.check_mode:
            obj = clean(current)
            obj.update((name, work.value(name)) for name in work.desired)
        else:
            if work.patch:
                body = dict(work.patch)
                if resource.odata_type:
                    body["@odata.type"] = resource.odata_type
                try:
                    ctx.client.patch(resource.item_path(current["id"]), json=body, api=resource.api)
                except GraphError as exc:
                    raise _graph_failure("update", ctx, current, exc)
            for prop, value in work.writes:
                prop.writer(ctx, current, value)

    for rel in resource.relationships:
        want = work.relationships[rel.name]
        if want is None:
            continue
        have = {}
        if current is not None:
            have = rel.current(ctx, current)
            before[rel.name] = rel.describe(ctx, have)
        after[rel.name] = rel.describe(ctx, want)
        if rel.differs(want, have):
            result["changed"] = True
            if not ctx.check_mode:
                rel.apply(ctx, obj, want, have)
        result[rel.name] = after[rel.name]

    if result["changed"] and not ctx.check_mode:
        obj = ctx.client.get(resource.item_path(obj["id"]), api=resource.api)
    result[resource.name] = clean(obj)
    result["diff"] = {"before": before, "after": after}
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
        raise _graph_failure("delete", ctx, current, exc)
    return result


def info(ctx, query=None, headers=None):
    """The objects an ``_info`` module returns: by ``id`` (an empty list when it does not exist or is not of this
    resource), by natural key, by ``query`` (``$filter`` and such, with ``headers``), or all of them."""
    resource, params = ctx.resource, ctx.params
    if params.get("id"):
        obj = ctx.client.get_or_none(resource.item_path(params["id"]), api=resource.api)
        found = [obj] if obj is not None and (resource.match is None or resource.match(obj)) else []
    elif params.get(resource.key_option):
        found = find_by_key(ctx, params[resource.key_option])
    else:
        found = list_all(ctx, params=query, headers=headers)
    return [clean(o) for o in found]


def names(ctx, obj):
    """The option-shaped names of the properties declared with ``resolve`` (``_info`` modules): option -> names."""
    return dict((p.option, [ctx.resolver.name(p.resolve, i, lenient=True) for i in p.current(obj) or []])
                for p in ctx.resource.props if p.resolve)


# ---------------------------------------------------------------- waits

def wait_until_listed(ctx, obj, timeout=60):
    """After a create: wait until the natural-key lookup finds the new object, so that the next task
    (or a re-run) never creates a second one while the directory replicates."""
    key = obj.get(ctx.resource.key_prop)

    def check():
        ids = [o["id"] for o in find_by_key(ctx, key, fresh=True)]
        return obj["id"] in ids, "%d object(s) named '%s' listed: %s" % (len(ids), key, ids)

    wait_for(check, timeout, "the new %s '%s' to replicate" % (ctx.resource.name, key), interval=1.0)
    return obj

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Intune assignment targets, shared by the ESP and the Autopilot profile modules.

Internal to this collection; it may change in any release.

The ``assignments`` option is the complete list of targets, each ``{group: NAME}`` (with
``exclude: true`` for an exclusion), ``{all_devices: true}`` or ``{all_users: true}``, each with an
optional assignment ``filter`` (by name) and ``filter_mode``. It becomes Graph's polymorphic
``deviceAndAppManagementAssignmentTarget`` (graph-api.md 1.4, from the Graph pages
intune-shared-groupassignmenttarget, -exclusiongroupassignmenttarget, -alldevicesassignmenttarget,
-alllicensedusersassignmenttarget and -deviceandappmanagementassignmenttarget).

Targets are compared by key ``(kind, groupId)`` and then by filter id and mode, so the order of
the list never matters and a changed filter is a change of that one target.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import EngineError

NS = "#microsoft.graph."
KIND_TYPES = {
    "group": "groupAssignmentTarget",
    "exclude": "exclusionGroupAssignmentTarget",
    "all_devices": "allDevicesAssignmentTarget",
    "all_users": "allLicensedUsersAssignmentTarget",
}
TYPE_KINDS = dict((v, k) for k, v in KIND_TYPES.items())
NO_FILTER = (None, "", "00000000-0000-0000-0000-000000000000")

ASSIGNMENT_OPTIONS = dict(
    group=dict(type="str"),
    exclude=dict(type="bool", default=False),
    all_devices=dict(type="bool", default=False),
    all_users=dict(type="bool", default=False),
    filter=dict(type="str"),
    filter_mode=dict(type="str", choices=["include", "exclude"]),
)


def assignment_argspec():
    return dict(type="list", elements="dict", options=ASSIGNMENT_OPTIONS)


def _type_name(value):
    return (value or "").lstrip("#").rsplit(".", 1)[-1]


def normalize(target):
    """``(key, value)`` for a Graph target: key ``(kind, groupId)``, value ``(filterId, filterType)``."""
    kind = TYPE_KINDS.get(_type_name(target.get("@odata.type")), _type_name(target.get("@odata.type")))
    filter_id = target.get("deviceAndAppManagementAssignmentFilterId")
    filter_type = target.get("deviceAndAppManagementAssignmentFilterType") or "none"
    if filter_id in NO_FILTER or filter_type == "none":
        filter_id, filter_type = None, "none"
    return (kind, target.get("groupId")), (filter_id, filter_type)


def to_target(key, value):
    kind, group_id = key
    filter_id, filter_type = value
    target = {"@odata.type": NS + KIND_TYPES[kind]}
    if group_id:
        target["groupId"] = group_id
    if kind != "exclude":
        target["deviceAndAppManagementAssignmentFilterId"] = filter_id
        target["deviceAndAppManagementAssignmentFilterType"] = filter_type
    return target


def desired(resolver, assignments, option="assignments", allow_all_users=True, allow_filters=True):
    """Validate the option and resolve names: a dict ``key -> (filterId, filterType)``.

    Raises :class:`EngineError` naming the entry (``assignments[2]``) for: not exactly one of
    group / all_devices / all_users, ``exclude`` without ``group``, a filter on an exclusion (Intune
    filters only narrow inclusions), a target the resource does not take, "all devices" together
    with exclusions (the service does not support it: memdocs autopilot/profiles.md,
    MicrosoftDocs/memdocs#4144), the same target twice, and unknown groups or filters.
    """
    if assignments is None:
        return None
    result = {}
    for index, entry in enumerate(assignments):
        where = "%s[%d]" % (option, index)
        chosen = [k for k in ("group", "all_devices", "all_users") if entry.get(k)]
        if len(chosen) != 1:
            raise EngineError("%s: set exactly one of group, all_devices or all_users (got %s)."
                              % (where, ", ".join(chosen) or "none"))
        if entry.get("exclude") and not entry.get("group"):
            raise EngineError("%s: exclude applies to a group only." % where)
        if entry.get("all_users") and not allow_all_users:
            raise EngineError("%s: all_users is not a valid target here; this resource is assigned to devices." % where)
        if (entry.get("filter") or entry.get("filter_mode")) and not allow_filters:
            raise EngineError("%s: assignment filters are not supported here." % where)
        if entry.get("filter_mode") and not entry.get("filter"):
            raise EngineError("%s: filter_mode needs filter." % where)
        if entry.get("filter") and entry.get("exclude"):
            raise EngineError("%s: a filter cannot be set on an exclusion." % where)
        if entry.get("group"):
            kind = "exclude" if entry.get("exclude") else "group"
            key = (kind, resolver.id("group", entry["group"], where + ".group"))
        else:
            key = (chosen[0], None)
        if entry.get("filter"):
            value = (resolver.id("assignment filter", entry["filter"], where + ".filter"), entry.get("filter_mode") or "include")
        else:
            value = (None, "none")
        if key in result or (key[0] in ("group", "exclude") and (("exclude" if key[0] == "group" else "group"), key[1]) in result):
            raise EngineError("%s: the group '%s' is listed more than once." % (where, entry.get("group") or chosen[0]))
        result[key] = value
    kinds = set(k[0] for k in result)
    if "all_devices" in kinds and "exclude" in kinds:
        raise EngineError("%s: 'all_devices' cannot be combined with excluded groups; Intune does not support "
                          "exclusions on an All devices assignment. Assign to groups instead." % option)
    return result


def current(assignments):
    """Graph assignment objects -> ``key -> (filterId, filterType)`` (and ``key -> assignment id``)."""
    values, ids = {}, {}
    for assignment in assignments:
        key, value = normalize(assignment.get("target") or {})
        values[key] = value
        ids[key] = assignment.get("id")
    return values, ids


def describe(resolver, key, value):
    """A readable entry in the option's own shape, for diffs and ``_info`` results."""
    kind, group_id = key
    entry = {}
    if kind in ("group", "exclude"):
        entry["group"] = resolver.name("group", group_id)
        if kind == "exclude":
            entry["exclude"] = True
    else:
        entry[kind] = True
    if value[0]:
        entry["filter"] = resolver.name("assignment filter", value[0])
        entry["filter_mode"] = value[1]
    return entry


def read_described(client, path, resolver, api="beta"):
    """The assignments of the object at ``path``, read in full and described by name (``_info`` modules)."""
    return describe_all(resolver, current(client.list("%s/assignments" % path, api=api))[0])


def describe_all(resolver, items):
    entries = [describe(resolver, k, v) for k, v in items.items()]
    return sorted(entries, key=lambda e: (e.get("group") or "", sorted(e.items())))

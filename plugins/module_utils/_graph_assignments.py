# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Intune assignment targets, shared by the ESP and the Autopilot profile modules.

Internal to this collection; it may change in any release.

The ``assignments`` option is the complete list of targets, each ``{group: NAME}`` (with
``exclude: true`` for an exclusion), ``{all_devices: true}`` or ``{all_users: true}``, each with an
optional assignment ``filter`` (by name) and ``filter_mode``. It becomes Graph's polymorphic
``deviceAndAppManagementAssignmentTarget`` (Graph beta pages intune-shared-groupassignmenttarget,
-exclusiongroupassignmenttarget, -alldevicesassignmenttarget, -alllicensedusersassignmenttarget and
-deviceandappmanagementassignmenttarget).

Targets are compared by key ``(kind, groupId)`` and then by filter id and mode, so the order of
the list never matters and a changed filter is a change of that one target.

A group created a moment ago (by aad_group earlier in the same play) may not be known to Intune yet: Entra is
eventually consistent (microsoftgraph/msgraph-sdk-java issue 2575: a new group is "Resource ... does not exist" for
some seconds) and Intune keeps its own copy of the directory. Microsoft documents neither the delay nor Intune's
answer; the nearest public reports show Intune refusing an assignment target with ``400 BadRequest`` and its
JSON-in-message error (Kvikku/IntuneAssignments issue 16, "Invalid GroupId ... a valid AADGroupId is expected";
terraprovider/terraform-provider-microsoft365wp issue 12). :func:`retry_new_groups` therefore retries an assignment
write refused with 400 or 404 while one of its groups is younger than ``NEW_GROUP_WINDOW``, and fails with a
timeout message naming the groups and Intune's last answer when the window has passed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import time

from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import EngineError, WaitTimeout, wait_for
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError

NS = "#microsoft.graph."
KIND_TYPES = {
    "group": "groupAssignmentTarget",
    "exclude": "exclusionGroupAssignmentTarget",
    "all_devices": "allDevicesAssignmentTarget",
    "all_users": "allLicensedUsersAssignmentTarget",
}
TYPE_KINDS = dict((v, k) for k, v in KIND_TYPES.items())
NO_FILTER = (None, "", "00000000-0000-0000-0000-000000000000")
NEW_GROUP_WINDOW = 15 * 60   # seconds after its creation during which a refused target group is retried

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


def _entry_problems(where, entry, allow_all_users, allow_filters):
    chosen = [k for k in ("group", "all_devices", "all_users") if entry.get(k)]
    problems = []
    if len(chosen) != 1:
        problems.append("%s: set exactly one of group, all_devices or all_users (got %s)." % (where, ", ".join(chosen) or "none"))
    if entry.get("exclude") and not entry.get("group"):
        problems.append("%s: exclude applies to a group only." % where)
    if entry.get("all_users") and not allow_all_users:
        problems.append("%s: all_users is not a valid target here; this resource is assigned to devices, so use groups "
                        "or all_devices." % where)
    if (entry.get("filter") or entry.get("filter_mode")) and not allow_filters:
        problems.append("%s: assignment filters are not supported here." % where)
    elif entry.get("filter_mode") and not entry.get("filter"):
        problems.append("%s: filter_mode needs filter." % where)
    elif entry.get("filter") and entry.get("exclude"):
        problems.append("%s: a filter cannot be set on an exclusion." % where)
    return problems


def desired(ctx, option="assignments", allow_all_users=True, allow_filters=True):
    """The option, checked and resolved: a dict ``key -> (filterId, filterType)``, or ``None`` when not set.

    Every problem goes to ``ctx.problems``, named by its entry (``assignments[2].group``): not exactly one of group /
    all_devices / all_users, ``exclude`` without ``group``, a filter on an exclusion (Intune filters only narrow
    inclusions), a target the resource does not take, "all devices" together with exclusions (the service does not
    support it: memdocs autopilot/profiles.md, MicrosoftDocs/memdocs#4144), the same target twice, and unknown or
    ambiguous groups and filters.
    """
    assignments = ctx.params.get(option)
    if assignments is None:
        return None
    result = {}
    for index, entry in enumerate(assignments):
        where = "%s[%d]" % (option, index)
        shape = _entry_problems(where, entry, allow_all_users, allow_filters)
        if shape:
            ctx.problems.extend(shape)
            continue
        try:
            if entry.get("group"):
                key = ("exclude" if entry.get("exclude") else "group",
                       ctx.resolver.id("group", entry["group"], where + ".group"))
            else:
                key = ([k for k in ("all_devices", "all_users") if entry.get(k)][0], None)
            value = (None, "none")
            if entry.get("filter"):
                value = (ctx.resolver.id("assignment filter", entry["filter"], where + ".filter"),
                         entry.get("filter_mode") or "include")
        except EngineError as exc:
            ctx.problems.add(exc.msg)
            continue
        other = (("exclude" if key[0] == "group" else "group"), key[1])
        if key in result or (key[0] in ("group", "exclude") and other in result):
            ctx.problems.add("%s: the group '%s' is listed more than once." % (where, entry.get("group") or key[0]))
        result[key] = value
    kinds = set(k[0] for k in result)
    if "all_devices" in kinds and "exclude" in kinds:
        ctx.problems.add("%s: 'all_devices' cannot be combined with excluded groups; Intune does not support exclusions "
                         "on an All devices assignment. Assign to groups instead." % option)
    return result


def current(assignments):
    """Graph assignment objects -> ``key -> (filterId, filterType)`` (and ``key -> assignment id``)."""
    values, ids = {}, {}
    for assignment in assignments:
        key, value = normalize(assignment.get("target") or {})
        values[key] = value
        ids[key] = assignment.get("id")
    return values, ids


def describe(resolver, key, value, lenient=False):
    """A readable entry in the option's own shape, for diffs and ``_info`` results."""
    kind, group_id = key
    entry = {}
    if kind in ("group", "exclude"):
        entry["group"] = resolver.name("group", group_id, lenient)
        if kind == "exclude":
            entry["exclude"] = True
    else:
        entry[kind] = True
    if value[0]:
        entry["filter"] = resolver.name("assignment filter", value[0], lenient)
        entry["filter_mode"] = value[1]
    return entry


def describe_all(resolver, items, lenient=False):
    entries = [describe(resolver, k, v, lenient) for k, v in items.items()]
    return sorted(entries, key=lambda e: (e.get("group") or "", sorted(e.items())))


def label(resolver, key):
    """The target as a user names it: the group's name, or all_devices / all_users."""
    return describe(resolver, key, (None, "none")).get("group") or key[0]


def _age(group, now):
    """Seconds since ``createdDateTime`` (ISO 8601 as Graph writes it), or ``None`` when unknown."""
    stamp = (group.get("createdDateTime") or "")[:19]
    try:
        created = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    return now - (created - datetime.datetime(1970, 1, 1)).total_seconds()


def retry_new_groups(ctx, keys, what, write, sleep=time.sleep, clock=time.time):
    """``write()`` an assignment of ``what`` to the targets ``keys``; when Intune refuses it with 400 or 404 while one
    of their groups is younger than ``NEW_GROUP_WINDOW`` (see the module docstring), write again until it is accepted
    or the youngest group is that old. Other failures, and failures with only older groups, are raised at once."""
    groups = [(key, ctx.resolver.known("group", key[1])) for key in keys if key[1]]
    ages = [(key, _age(group, clock())) for key, group in groups]
    young = [(key, age) for key, age in ages if age is not None and age < NEW_GROUP_WINDOW]
    try:
        return write()
    except GraphError as exc:
        if exc.status not in (400, 404) or not young:
            raise
        refused = [exc.summary]

    def attempt():
        if refused:   # the write above was the first attempt: wait before the next one
            return False, refused.pop()
        try:
            write()
        except GraphError as exc:
            if exc.status not in (400, 404):
                raise
            return False, exc.summary
        return True, None

    names = ", ".join("'%s' (created %ds ago)" % (label(ctx.resolver, key), max(age, 0)) for key, age in young)
    timeout = max(0, int(NEW_GROUP_WINDOW - min(age for _key, age in young)))
    try:
        wait_for(attempt, timeout, "Intune to accept the new group(s) %s as assignment targets of %s" % (names, what),
                 interval=5.0, max_interval=30.0, sleep=sleep, clock=clock)
    except WaitTimeout as exc:
        raise WaitTimeout("%s. Intune did not know the group(s) %d minutes after their creation; run the task again "
                          "later." % (exc.msg, NEW_GROUP_WINDOW // 60), last_seen=exc.last_seen)
    return None

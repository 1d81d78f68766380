# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Names instead of GUIDs: resolve groups, users, devices, apps, scope tags and filters.

Internal to this collection; it may change in any release.

Every lookup returns exactly one object or fails with a message that names the option, the name
and what was found (none, or how many). A value that is a GUID is taken as an id and checked.
In check mode a name that does not exist yet is not an error: a previous task of the same run
may be about to create it (the group a role creates before it assigns a profile to it). The
resolver then warns and returns an :class:`Unresolved` placeholder, which compares unequal to
every real id, so the plan shows the change. In a real run the same name is an error.

The lists of apps, scope tags and assignment filters are read once per module run and matched
client-side (their collections are small and their ``$filter`` support is not documented);
groups, users and devices are looked up with ``$filter`` equality, which the directory supports
(microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/api/group-list.md; concepts/aad-advanced-queries.md:
``eq`` needs no advanced query).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import (
    EngineError, is_guid, odata_quote)
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError


class Unresolved(str):
    """A name that does not resolve yet (check mode only)."""

    def __new__(cls, kind, name):
        obj = str.__new__(cls, "(%s '%s', not created yet)" % (kind, name))
        obj.kind = kind
        obj.name = name
        return obj


# kind -> (collection path, api, name property, select); a group's createdDateTime tells a group that Intune may not
# know yet (see _graph_assignments.retry_new_groups).
KINDS = {
    "group": ("/groups", "v1.0", "displayName", "id,displayName,groupTypes,createdDateTime"),
    "user": ("/users", "v1.0", "userPrincipalName", "id,displayName,userPrincipalName"),
    "device": ("/devices", "v1.0", "displayName", "id,displayName,deviceId"),
    "app": ("/deviceAppManagement/mobileApps", "beta", "displayName", None),
    "scope tag": ("/deviceManagement/roleScopeTags", "beta", "displayName", None),
    "assignment filter": ("/deviceManagement/assignmentFilters", "beta", "displayName", None),
}
LISTED = ("app", "scope tag", "assignment filter")


class Resolver(object):
    def __init__(self, module):
        self.module = module
        self._lists = {}
        self._by_id = {}
        self._unreadable = set()

    @property
    def client(self):
        return self.module.client

    def _list(self, kind):
        if kind not in self._lists:
            path, api, _name, select = KINDS[kind]
            params = {"$select": select} if select else None
            self._lists[kind] = self.client.list(path, api=api, params=params)
            for obj in self._lists[kind]:
                self._by_id[(kind, obj["id"])] = obj
        return self._lists[kind]

    def _candidates(self, kind, name):
        path, api, prop, select = KINDS[kind]
        if kind in LISTED:
            items = self._list(kind)
        else:
            params = {"$filter": "%s eq %s" % (prop, odata_quote(name))}
            if select:
                params["$select"] = select
            items = self.client.list(path, api=api, params=params)
        wanted = name.lower()
        return [o for o in items if (o.get(prop) or "").lower() == wanted]

    def lookup(self, kind, value, option, allow_unresolved=True):
        """The one object of ``kind`` named (or with id) ``value``; ``option`` names the option in errors."""
        value = "" if value is None else str(value).strip()
        if not value:
            raise EngineError("%s: the entry is empty; give the %s's display name or id." % (option, kind))
        path, api, _prop, _select = KINDS[kind]
        if is_guid(value) or (kind == "scope tag" and value.isdigit()):
            if (kind, value) in self._by_id:
                return self._by_id[(kind, value)]
            obj = self.client.get_or_none("%s/%s" % (path, value), api=api)
            if obj is None:
                raise EngineError("%s: no %s with id '%s' exists." % (option, kind, value))
            self._by_id[(kind, value)] = obj
            return obj
        found = self._candidates(kind, value)
        if len(found) > 1:
            if kind == "app":
                extra = " (%s)" % ", ".join("%s %s" % (o.get("@odata.type", "").rsplit(".", 1)[-1], o["id"])
                                            for o in found)
            else:
                extra = " (ids: %s)" % ", ".join(sorted(str(o["id"]) for o in found))
            raise EngineError("%s: %d %ss are named '%s'%s; use the id of the one you mean."
                              % (option, len(found), kind, value, extra))
        if not found:
            if allow_unresolved and self.module.check_mode and self.module.params.get("check_mode_missing") == "warn":
                self.module.warn("%s: no %s named '%s' exists yet; check mode assumes an earlier task creates it."
                                 % (option, kind, value))
                return {"id": Unresolved(kind, value), "displayName": value}
            hint = ("; check the name, or, when an earlier task of the play creates it, set check_mode_missing: warn"
                    if allow_unresolved and self.module.check_mode else "")
            raise EngineError("%s: no %s named '%s' was found%s." % (option, kind, value, hint))
        self._by_id[(kind, found[0]["id"])] = found[0]
        return found[0]

    def id(self, kind, value, option, allow_unresolved=True):
        return self.lookup(kind, value, option, allow_unresolved)["id"]

    def ids(self, kind, values, option, problems, allow_unresolved=False):
        """The ids of ``values`` (names or ids, duplicates dropped, order kept); each name that does not resolve is
        added to ``problems`` as ``option[index]: ...`` instead of stopping at the first."""
        ids = []
        for index, value in enumerate(values):
            try:
                obj_id = self.id(kind, value, "%s[%d]" % (option, index), allow_unresolved)
            except EngineError as exc:
                problems.add(exc.msg)
                continue
            if obj_id not in ids:
                ids.append(obj_id)
        return ids

    def known(self, kind, obj_id):
        """The object this run has already read for ``obj_id`` (``{}`` when none)."""
        return self._by_id.get((kind, obj_id)) or {}

    def name(self, kind, obj_id, lenient=False):
        """The display name of an id, for diffs and ``_info`` results (the id itself when gone).

        ``lenient`` (the ``_info`` modules): when the names of a kind cannot be read (a missing permission), show the
        ids and warn once per kind; names are a convenience of a read-only module, not worth failing it.
        """
        if isinstance(obj_id, Unresolved):
            return obj_id.name
        if kind in self._unreadable:
            return obj_id
        try:
            if kind in LISTED:
                self._list(kind)
            obj = self._by_id.get((kind, obj_id))
            if obj is None:
                path, api, _prop, _select = KINDS[kind]
                obj = self.client.get_or_none("%s/%s" % (path, obj_id), api=api) or {}
                self._by_id[(kind, obj_id)] = obj
        except GraphError as exc:
            if not lenient:
                raise
            self._unreadable.add(kind)
            self.module.warn("Could not read %s names (%s); their ids are shown instead." % (kind, exc))
            return obj_id
        return obj.get(KINDS[kind][2]) or obj_id

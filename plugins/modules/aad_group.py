#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: aad_group
short_description: Manage a Microsoft Entra security group, assigned or dynamic
version_added: 0.1.0
description:
  - Creates, updates or deletes one Microsoft Entra ID (Azure AD) security group through Microsoft Graph v1.0,
    found by its display name (or its id).
  - The group is assigned (members listed by you) or dynamic (members computed by Entra from a membership rule).
    The Autopilot device group of the user-driven Entra join tutorial is a dynamic device group; the options
    O(all_autopilot_devices) and O(autopilot_group_tag) write the rules Microsoft documents for it.
  - Graph allows several groups with the same display name. This module never creates a second one; when it finds
    more than one group with the name it fails and names them, and after creating a group it waits until the
    directory lists it, so that the next task or a re-run finds it.
  - Only the options you set are compared and changed. O(members) is the complete list of direct members.
author:
  - intune.autopilot contributors (@intune-autopilot)
extends_documentation_fragment:
  - intune.autopilot.graph_auth
  - intune.autopilot.check_mode
  - intune.autopilot.attributes
  - intune.autopilot.attributes.action_group
options:
  display_name:
    description:
      - The group's display name (at most 256 characters), the natural key of the group.
      - Required unless O(id) is given.
    type: str
    aliases: [name]
  id:
    description:
      - The group's object id. When set, the group is found by id and O(display_name) is a property to set.
    type: str
  description:
    description: The group's description.
    type: str
  mail_nickname:
    description:
      - The mail alias (at most 64 ASCII characters, without spaces or C(@()\[]";:.<>,)).
      - When omitted on creation it is derived from O(display_name); when omitted later it is left as it is. When set it
        is compared and updated like any other property (C(mailNickname) is updatable, Graph v1.0 group-update.md).
    type: str
  membership_rule:
    description:
      - A dynamic membership rule. Setting it makes the group dynamic (C(groupTypes) C(DynamicMembership)).
      - On an existing assigned group this changes the group to dynamic membership in place (same id). Microsoft Entra
        then removes its current members and adds the ones the rule matches; the task warns when it does so.
      - Refused before any call when longer than 3,072 characters or when its parentheses or quotes are unbalanced.
      - Mutually exclusive with O(all_autopilot_devices) and O(autopilot_group_tag).
    type: str
  all_autopilot_devices:
    description:
      - Make the group dynamic with the rule Microsoft documents for all Windows Autopilot devices,
        C((device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))).
    type: bool
  autopilot_group_tag:
    description:
      - Make the group dynamic with the rule Microsoft documents for the Autopilot devices of one group tag,
        C((device.devicePhysicalIds -any (_ -eq "[OrderID]:<tag>"))).
    type: str
  membership_rule_processing_state:
    description:
      - Whether Entra evaluates the dynamic rule (V(On)) or not (V(Paused)). New dynamic groups are created V(On).
    type: str
    choices: ["On", "Paused"]
  members:
    description:
      - The complete list of direct members of an assigned group; members not listed are removed.
      - Each entry is a user principal name (it contains C(@)), a directory object id (users, devices, groups),
        or a device display name.
      - Not allowed on dynamic groups, whose members Entra computes.
    type: list
    elements: str
  state:
    description: Whether the group should exist.
    type: str
    choices: [present, absent]
    default: present
  wait_timeout:
    description:
      - Seconds to wait after creating the group until the directory lists it (replication delay).
      - Also how long a create whose answer was lost (a 5xx or a dropped connection) keeps looking for the group
        by name before sending the create again, so that a group created during replication is never created twice.
    type: int
    default: 120
notes:
  - "Graph application permissions: C(Group.ReadWrite.All) (C(Group.Create) suffices to create);
    C(User.Read.All) and C(Device.Read.All) to resolve members by name. To add or remove O(members), Microsoft's
    current Add members page (api-reference/v1.0/api/group-post-members.md) lists as least privilege
    C(GroupMember.ReadWrite.All) together with C(User.ReadWrite.All) for users or C(Device.ReadWrite.All) for
    devices; earlier versions of that page listed C(Group.ReadWrite.All) alone. A 403 names the permission."
  - The group is returned as Graph returns it (camelCase keys), without C(@odata.context).
seealso:
  - module: intune.autopilot.aad_group_info
  - name: Create a device group for Windows Autopilot
    description: Microsoft's rules for Autopilot device groups.
    link: https://learn.microsoft.com/autopilot/enrollment-autopilot
"""

EXAMPLES = r"""
# The users and devices named in members must exist in your tenant.
- name: The dynamic device group of all Autopilot devices
  intune.autopilot.aad_group:
    display_name: Autopilot devices
    description: All Windows Autopilot devices
    all_autopilot_devices: true

- name: The devices of one site, by group tag
  intune.autopilot.aad_group:
    display_name: Autopilot devices - Berlin
    autopilot_group_tag: BER

- name: An assigned group with two users and a device
  intune.autopilot.aad_group:
    name: Autopilot pilot users
    members:
      - adele.vance@contoso.com
      - megan.bowen@contoso.com
      - DESKTOP-12AB34C

- name: Remove a group
  intune.autopilot.aad_group:
    display_name: Old Autopilot group
    state: absent
"""

RETURN = r"""
group:
  description: The group as Graph returns it after the change (predicted in check mode, without C(id) on create); null when absent.
  returned: always
  type: dict
  sample:
    id: 0b6d7e5f-2f1c-4d8e-9a3b-7c1d2e3f4a5b
    displayName: Autopilot devices
    groupTypes: [DynamicMembership]
    membershipRule: (device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))
    membershipRuleProcessingState: "On"
    mailEnabled: false
    securityEnabled: true
members:
  description: The direct members after the change, as given or as named by Graph; only when O(members) is set.
  returned: when members is set
  type: list
  elements: str
diff:
  description: The managed properties before and after.
  returned: always
  type: dict
"""

import re

from ansible_collections.intune.autopilot.plugins.module_utils._graph_module import CHECK_MODE_MISSING_ARGSPEC, GraphModule
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import (
    EngineError, GraphResource, Prop, Relationship, Context, ensure, execute, find_current, wait_until_listed)
from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import is_guid

ALL_AUTOPILOT_RULE = '(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))'
GROUP_TAG_RULE = '(device.devicePhysicalIds -any (_ -eq "[OrderID]:%s"))'
MAX_RULE = 3072


def check_rule(rule, option):
    """Refuse a rule that Entra would reject for its shape (groups-dynamic-membership: 3,072 characters)."""
    if len(rule) > MAX_RULE:
        raise EngineError("%s: the rule has %d characters; Entra allows at most %d." % (option, len(rule), MAX_RULE))
    depth, quoted = 0, False
    for char in rule:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth < 0:
                raise EngineError("%s: a ')' has no matching '('." % option)
    if quoted:
        raise EngineError("%s: a double quote is not closed." % option)
    if depth:
        raise EngineError("%s: %d '(' not closed." % (option, depth))


def derive_nickname(name):
    nickname = re.sub(r"[^A-Za-z0-9_\-]", "", name or "")[:64]
    return nickname or "group"


def build(ctx):
    params = ctx.params
    rules = [o for o in ("membership_rule", "all_autopilot_devices", "autopilot_group_tag") if params.get(o)]
    desired = {}
    if params.get("id") and params.get("display_name"):
        desired["displayName"] = params["display_name"]
    if params.get("display_name") and len(params["display_name"]) > 256:
        raise EngineError("display_name: at most 256 characters are allowed (got %d)." % len(params["display_name"]))
    nickname = params.get("mail_nickname")
    if nickname is not None and (len(nickname) > 64 or re.search(r'[@()\\\[\]";:.<>,\s]', nickname) or
                                 any(ord(c) > 127 for c in nickname)):
        raise EngineError("mail_nickname: at most 64 ASCII characters without spaces or @()\\[]\";:.<>, are allowed.")
    tag = params.get("autopilot_group_tag")
    if tag is not None and ('"' in tag or not tag.strip()):
        raise EngineError("autopilot_group_tag: a group tag must not be empty or contain double quotes.")
    if params.get("all_autopilot_devices") is False:
        raise EngineError("all_autopilot_devices: only true makes sense; omit it for an assigned group.")
    rule = None
    if params.get("membership_rule"):
        rule = params["membership_rule"]
    elif params.get("all_autopilot_devices"):
        rule = ALL_AUTOPILOT_RULE
    elif tag:
        rule = GROUP_TAG_RULE % tag
    if rule is not None:
        check_rule(rule, rules[0])
        desired["membershipRule"] = rule
        desired["groupTypes"] = ["DynamicMembership"]
        if params.get("members") is not None:
            raise EngineError("members: a dynamic group's members come from its rule; remove members or %s." % rules[0])
    elif params.get("members") is not None:
        desired["groupTypes"] = []
    return desired


def defaults(ctx):
    body = {"mailEnabled": False, "securityEnabled": True, "groupTypes": [],
            "mailNickname": ctx.params.get("mail_nickname") or derive_nickname(ctx.params.get("display_name"))}
    if ctx.params.get("description") is not None:
        body["description"] = ctx.params["description"]
    if body["groupTypes"] == [] and (ctx.params.get("membership_rule") or ctx.params.get("all_autopilot_devices")
                                     or ctx.params.get("autopilot_group_tag")):
        body["membershipRuleProcessingState"] = ctx.params.get("membership_rule_processing_state") or "On"
    return body


def after_create(ctx, obj):
    return wait_until_listed(ctx, obj, timeout=ctx.params["wait_timeout"])


class Members(Relationship):
    """Direct members, read from ``/groups/{id}/members`` (never transitive) and written through
    ``members/$ref`` (group-post-members, group-delete-members)."""

    name = "members"

    def __init__(self):
        self.labels = {}

    def desired(self, ctx):
        entries = ctx.params.get("members")
        if entries is None:
            return None
        wanted = {}
        for index, entry in enumerate(entries):
            option = "members[%d]" % index
            if is_guid(entry):
                member_id = entry
            elif "@" in entry:
                member_id = ctx.resolver.id("user", entry, option)
            else:
                member_id = ctx.resolver.id("device", entry, option)
            self.labels[member_id] = entry
            wanted[member_id] = None
        return wanted

    def current(self, ctx, obj):
        if isinstance(obj.get("id"), str) and obj.get("id"):
            members = ctx.client.list("/groups/%s/members" % obj["id"], api="v1.0",
                                      params={"$select": "id,displayName,userPrincipalName"})
        else:
            members = []
        for member in members:
            self.labels.setdefault(member["id"], member.get("userPrincipalName") or member.get("displayName") or member["id"])
        return dict((m["id"], None) for m in members)

    def describe(self, ctx, items):
        return sorted(self.labels.get(k, k) for k in items)

    @staticmethod
    def _is_member(ctx, obj, member_id):
        members = ctx.client.list("/groups/%s/members" % obj["id"], api="v1.0", params={"$select": "id"})
        return any(m.get("id") == member_id for m in members)

    def apply(self, ctx, obj, desired, current):
        base = ctx.client.graph_url.rstrip("/")
        for member_id in sorted(set(desired) - set(current)):
            try:
                # Adding a member twice is harmless (answered as below), so the POST may be repeated.
                ctx.client.post("/groups/%s/members/$ref" % obj["id"], api="v1.0", probe=lambda: None,
                                json={"@odata.id": "%s/v1.0/directoryObjects/%s" % (base, member_id)})
            except GraphError as exc:
                # Graph answers 400 when the object is already a member (group-post-members.md: "returns a
                # 400 Bad Request response code when the object is already a member"); that is the goal. The page
                # gives no error text, so a 400 counts as "already a member" when its message says so (the text
                # the service sends today) or when the member is listed.
                if not (exc.status == 400 and ("already exist" in (exc.message or "") or self._is_member(ctx, obj, member_id))):
                    raise EngineError("Failed to add member '%s' to group '%s': %s" % (self.labels.get(member_id), obj.get("displayName"), exc),
                                      **exc.to_result())
        for member_id in sorted(set(current) - set(desired)):
            try:
                ctx.client.delete("/groups/%s/members/%s/$ref" % (obj["id"], member_id), api="v1.0", missing_ok=True)
            except GraphError as exc:
                raise EngineError("Failed to remove member '%s' from group '%s': %s" % (self.labels.get(member_id), obj.get("displayName"), exc),
                                  **exc.to_result())


def resource():
    return GraphResource(
        name="group",
        path="/groups",
        api="v1.0",
        key=("display_name", "displayName"),
        find_by="filter",
        build=build,
        defaults=defaults,
        after_create=after_create,
        probe_timeout=lambda ctx: ctx.params["wait_timeout"],
        props=[
            Prop("description", "description"),
            Prop("mail_nickname", "mailNickname"),
            Prop("membership_rule_processing_state", "membershipRuleProcessingState", kind="ci"),
            Prop("group_types", "groupTypes", kind="set"),
            Prop("membership_rule", "membershipRule"),
        ],
        relationships=[Members()],
    )


def run(module):
    """ensure(), refusing members on a group that is dynamic now, and warning when an assigned group becomes dynamic.

    Microsoft Entra supports the change in place (same id, so references stay valid), and warns: "When changing an
    existing static group to a dynamic group, all existing members are removed from the group, and then the
    membership rule is processed to add new members" (MicrosoftDocs/entra-docs docs/identity/users/groups-change-type.md).
    """
    params = module.params
    ctx = Context(module, resource())
    rules = [o for o in ("membership_rule", "all_autopilot_devices", "autopilot_group_tag") if params.get(o)]
    if params.get("members") is not None and not rules and params.get("state") == "present":
        current = find_current(ctx)
        if current is not None and "DynamicMembership" in (current.get("groupTypes") or []):
            raise EngineError("members: group '%s' has dynamic membership, so its members come from its rule; "
                              "members are not allowed on it (this module does not turn a dynamic group into an "
                              "assigned one). Remove members, or manage another group." % current.get("displayName"))
    result = ensure(ctx)
    before = (result.get("diff") or {}).get("before") or {}
    after = (result.get("diff") or {}).get("after") or {}
    if "groupTypes" in before and "DynamicMembership" not in (before.get("groupTypes") or []) \
            and "DynamicMembership" in (after.get("groupTypes") or []):
        result.setdefault("warnings", []).append(
            "The group changes from assigned to dynamic membership: its current members are removed, then the rule "
            "adds the members it matches (Microsoft Entra groups-change-type).")
    return result


def main():
    module = GraphModule(
        argument_spec=dict(
            display_name=dict(type="str", aliases=["name"]),
            id=dict(type="str"),
            description=dict(type="str"),
            mail_nickname=dict(type="str"),
            membership_rule=dict(type="str"),
            all_autopilot_devices=dict(type="bool"),
            autopilot_group_tag=dict(type="str"),
            membership_rule_processing_state=dict(type="str", choices=["On", "Paused"]),
            members=dict(type="list", elements="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            check_mode_missing=CHECK_MODE_MISSING_ARGSPEC,
            wait_timeout=dict(type="int", default=120),
        ),
        required_one_of=[["display_name", "id"]],
        mutually_exclusive=[["membership_rule", "all_autopilot_devices", "autopilot_group_tag"]],
        supports_check_mode=True,
    )
    execute(module, lambda: run(module))


if __name__ == "__main__":
    main()

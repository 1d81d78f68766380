# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Microsoft Entra security group, declared once for aad_group and aad_group_info.

Internal to this collection; it may change in any release.

A group is assigned (direct members) or dynamic (``groupTypes`` ``DynamicMembership`` and a ``membershipRule``). Three
options give the rule: ``membership_rule`` as written, and the rules Microsoft documents for Autopilot devices
(memdocs autopilot/enrollment-autopilot.md): all of them, or those of one group tag. Membership rules are checked and
compared in one place, :func:`rule_problems` and :func:`same_rule`, by Entra's documented grammar (_membership_rule):
a rule the group already holds that means the same as the one asked for is adopted without change. The two Autopilot
options ask for a meaning, not a text: ``all_autopilot_devices`` adopts any rule that selects every Autopilot device
(``-startsWith "[ZTDid]"`` as memdocs writes it today, ``-contains "[ZTDId]"`` as its older pages and many scripts
do: ``_membership_rule.is_all_autopilot``) and ``autopilot_group_tag`` any rule that selects exactly the devices of
that tag (``_membership_rule.group_tag``), the tag compared without case as Entra compares rule strings
(entra-docs groups-dynamic-membership.md: "Regex and string operations aren't case sensitive"). Rewriting such a
rule would change nothing it selects, yet "Existing members of the group are removed when a rule is enabled or
changed" (entra-docs docs/identity/users/groups-troubleshooting.md), so it is left as it is. A description the group does not have (Graph
returns null: the portal's blank field) and an empty ``description`` are the same (``text`` in the engine).

What is refused, and why: a display name over 256 characters and a ``mailNickname`` over 64 characters or with the
characters Graph names (group resource page, v1.0), each only when the module would send it; a rule Entra refuses
(every problem _membership_rule finds: groups-dynamic-membership.md); members on a
dynamic group (Entra computes them); and deleting a group an ESP or an Autopilot deployment profile is still assigned
to, unless ``delete_assigned`` says so (the assignments would point at an id that no longer exists). UNCLEAR: the
Graph list pages of deviceEnrollmentConfigurations and windowsAutopilotDeploymentProfiles do not document
``$expand=assignments``, which public Intune assignment-report scripts use on both; a refusal fails the task before
any write, naming ``delete_assigned``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_profile import PATH as PROFILES
from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import EngineError, is_guid
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import (
    GraphResource, Prop, Relationship, wait_until_listed)
from ansible_collections.intune.autopilot.plugins.module_utils._intune_esp import PATH as ESPS, is_esp
from ansible_collections.intune.autopilot.plugins.module_utils import _membership_rule as membership_rule

ALL_AUTOPILOT_RULE = '(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))'
GROUP_TAG_RULE = '(device.devicePhysicalIds -any (_ -eq %s))'
RULE_OPTIONS = ("membership_rule", "all_autopilot_devices", "autopilot_group_tag")
MAX_NAME = 256
DYNAMIC = "DynamicMembership"


def rule_problems(rule):
    """Every reason Entra would refuse a membership rule, as messages without the option name (_membership_rule)."""
    return membership_rule.problems(rule)


def same_rule(want, have):
    """Whether two membership rules select the same objects: a rule the group holds that means the one the options
    ask for (other spacing, operator case or hyphen, parentheses, operand order) is adopted as it is, because
    changing the text makes Entra re-evaluate the group and remove its members first (_membership_rule)."""
    return membership_rule.equivalent(want, have)


def adopt_rule(params, have):
    """Whether the group's rule ``have`` already selects what ``all_autopilot_devices`` or ``autopilot_group_tag``
    ask for (the module docstring); ``membership_rule`` is compared by :func:`same_rule` alone."""
    option = desired_rule(params)[0]
    if have is None or option == "membership_rule":
        return False
    if option == "all_autopilot_devices":
        return membership_rule.is_all_autopilot(have)
    tag = membership_rule.group_tag(have)
    return option == "autopilot_group_tag" and tag is not None and tag.lower() == params["autopilot_group_tag"].lower()


def desired_rule(params):
    """``(option, rule)``: the rule the options ask for and the option that gave it, or ``(None, None)``."""
    if params.get("membership_rule"):
        return "membership_rule", params["membership_rule"]
    if params.get("all_autopilot_devices"):
        return "all_autopilot_devices", ALL_AUTOPILOT_RULE
    if params.get("autopilot_group_tag"):
        return "autopilot_group_tag", GROUP_TAG_RULE % membership_rule.quote("[OrderID]:" + params["autopilot_group_tag"])
    return None, None


class RuleProp(Prop):
    def equal(self, want, have):
        return same_rule(want, have)


def _nickname_problem(nickname):
    if len(nickname) > 64 or re.search(r'[@()\\\[\]";:.<>,\s]', nickname) or any(ord(c) > 127 for c in nickname):
        return "at most 64 ASCII characters without spaces or @()\\[]\";:.<>, are allowed."
    return None


def derive_nickname(name):
    return re.sub(r"[^A-Za-z0-9_\-]", "", name or "")[:64] or "group"


def validate(ctx):
    params, add = ctx.params, ctx.problems.add
    option, rule = desired_rule(params)
    tag = params.get("autopilot_group_tag")
    if tag is not None and not tag.strip():
        add("autopilot_group_tag: a group tag must not be empty.")
    if params.get("all_autopilot_devices") is False:
        add("all_autopilot_devices: only true makes sense; omit it for an assigned group.")
    if rule is not None and params.get("members") is not None:
        add("members: a dynamic group's members come from its rule; remove members or %s." % option)


def assigned_to(ctx, group_id):
    """The ESPs and Autopilot deployment profiles assigned to ``group_id``: one list of each, assignments expanded."""
    found = []
    for kind, path, match in (("ESP", ESPS, is_esp), ("Autopilot deployment profile", PROFILES, None)):
        items = [i for i in ctx.client.list(path, api="beta", params={"$expand": "assignments"}) if not match or match(i)]
        for item in items:
            for assignment in item.get("assignments") or []:
                target = assignment.get("target") or {}
                if target.get("groupId") == group_id:
                    found.append("%s '%s' (%s)" % (kind, item.get("displayName"), "excluded" if "exclusion" in (
                        target.get("@odata.type") or "").lower() else "included"))
    return found


def check(ctx, plan):
    """Members on a group that is dynamic now; a group that becomes dynamic (a warning); the name; a safe delete."""
    current, params = plan.current or {}, ctx.params
    if not plan.present:
        if plan.current and not params.get("delete_assigned"):
            try:
                found = assigned_to(ctx, current["id"])
            except GraphError as exc:
                raise EngineError("Failed to check whether group '%s' is still assigned in Intune: %s; set "
                                  "delete_assigned: true to delete it without that check." % (ctx.label(current), exc),
                                  **exc.to_result())
            if found:
                ctx.problems.add("state: group '%s' is still assigned to %s; remove those assignments first, or set "
                                 "delete_assigned: true to delete it anyway." % (ctx.label(current), ", ".join(found)))
        return
    dynamic = DYNAMIC in (current.get("groupTypes") or [])
    if params.get("members") is not None and desired_rule(params)[1] is None and dynamic:
        ctx.problems.add("members: group '%s' has dynamic membership, so its members come from its rule; members are not "
                         "allowed on it (this module does not turn a dynamic group into an assigned one). Remove members, "
                         "or manage another group." % current.get("displayName"))
    if plan.current and not dynamic and plan.sends("groupTypes"):
        # Entra supports the change in place (same id), and warns: "When changing an existing static group to a
        # dynamic group, all existing members are removed from the group, and then the membership rule is processed
        # to add new members" (MicrosoftDocs/entra-docs docs/identity/users/groups-change-type.md).
        ctx.warn("The group changes from assigned to dynamic membership: its current members are removed, then the rule "
                 "adds the members it matches (Microsoft Entra groups-change-type).")
    name = (plan.value("displayName") if plan.sends("displayName") else "") or ""
    if len(name) > MAX_NAME:
        ctx.problems.add("display_name: at most %d characters are allowed (got %d)." % (MAX_NAME, len(name)))


def defaults(ctx):
    params = ctx.params
    body = {"mailEnabled": False, "securityEnabled": True, "groupTypes": [],
            "mailNickname": params.get("mail_nickname") or derive_nickname(params.get("display_name"))}
    if desired_rule(params)[1] is not None:
        body["membershipRuleProcessingState"] = params.get("membership_rule_processing_state") or "On"
    return body


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
            try:
                member_id = entry if is_guid(entry) else ctx.resolver.id(
                    "user" if "@" in entry else "device", entry, "members[%d]" % index)
            except EngineError as exc:
                ctx.problems.add(exc.msg)
                continue
            self.labels[member_id] = entry
            wanted[member_id] = None
        return wanted

    def current(self, ctx, obj):
        members = ctx.client.list("/groups/%s/members" % obj["id"], api="v1.0",
                                  params={"$select": "id,displayName,userPrincipalName"})
        for member in members:
            self.labels.setdefault(member["id"], member.get("userPrincipalName") or member.get("displayName") or member["id"])
        return dict((m["id"], None) for m in members)

    def describe(self, ctx, items, lenient=False):
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
                    raise EngineError("Failed to add member '%s' to group '%s': %s" % (
                        self.labels.get(member_id), obj.get("displayName"), exc), **exc.to_result())
        for member_id in sorted(set(current) - set(desired)):
            try:
                ctx.client.delete("/groups/%s/members/%s/$ref" % (obj["id"], member_id), api="v1.0", missing_ok=True)
            except GraphError as exc:
                raise EngineError("Failed to remove member '%s' from group '%s': %s" % (
                    self.labels.get(member_id), obj.get("displayName"), exc), **exc.to_result())


def _rule_check(rule):
    problems = rule_problems(rule)
    return " ".join(problems) if problems else None


def resource():
    return GraphResource(
        "group", "/groups", api="v1.0",
        defaults=defaults,
        after_create=lambda ctx, obj: wait_until_listed(ctx, obj, timeout=ctx.params["wait_timeout"]),
        probe_timeout=lambda ctx: ctx.params["wait_timeout"],
        props=[
            Prop("description", "description", kind="text"),
            Prop("mail_nickname", "mailNickname", check=_nickname_problem),
            Prop("membership_rule_processing_state", "membershipRuleProcessingState", kind="ci"),
            Prop("membership_rule", "groupTypes", kind="set",
                 value=lambda params: [DYNAMIC] if desired_rule(params)[1] is not None else None),
            RuleProp("membership_rule", "membershipRule", value=lambda params: desired_rule(params)[1], check=_rule_check,
                     adopt=adopt_rule),
        ],
        relationships=[Members()],
        validate=validate,
        check=check,
    )

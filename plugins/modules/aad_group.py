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
    description:
      - The group's description.
      - An empty description and none at all are the same (Graph returns null for the portal's blank field), so V("")
        on a group without a description is no change.
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
      - Checked before any write against Entra's documented rule syntax (operators with or without the hyphen, in any
        case; at most 3,072 characters); every problem is named with its position.
      - A rule the group already holds that selects the same objects (other spacing, operator spelling, parentheses,
        operand order, string case) is kept as it is, with no change, for this option and the two below, because
        Entra re-evaluates the group and removes its members first when the text changes.
      - Mutually exclusive with O(all_autopilot_devices) and O(autopilot_group_tag).
    type: str
  all_autopilot_devices:
    description:
      - Make the group dynamic with the rule Microsoft documents for all Windows Autopilot devices,
        C((device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))).
      - A group whose rule already selects every Autopilot device in another form, such as the
        C((device.devicePhysicalIDs -any (_ -contains "[ZTDId]"))) of Microsoft's older pages and many scripts, keeps it
        with no change.
    type: bool
  autopilot_group_tag:
    description:
      - Make the group dynamic with the rule Microsoft documents for the Autopilot devices of one group tag,
        C((device.devicePhysicalIds -any (_ -eq "[OrderID]:<tag>"))); a double quote in the tag is escaped.
      - A group whose rule already selects exactly the devices of this tag (in any form, such as C(-in) a one-item list;
        the tag compared without regard to case, as Entra compares rule strings) keeps it with no change.
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
    description:
      - Whether the group should exist.
      - V(absent) refuses, before any write, to delete a group that an Enrollment Status Page or an Autopilot
        deployment profile is still assigned to (included or excluded), and names those assignments; their targets would
        point at an id that no longer exists. Finding them reads the ESPs and the deployment profiles with their
        assignments (two paged lists), which needs C(DeviceManagementServiceConfig.Read.All). See O(delete_assigned).
    type: str
    choices: [present, absent]
    default: present
  delete_assigned:
    description:
      - With O(state=absent), delete the group even when ESPs or Autopilot deployment profiles are assigned to it; the
        check is skipped (and needs no Intune permission).
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait after creating the group until the directory lists it (replication delay).
      - Also how long a create whose answer was lost (a 5xx or a dropped connection) keeps looking for the group
        by name before sending the create again, so that a group created during replication is never created twice.
    type: int
    default: 120
notes:
  - "Graph application permissions: C(Group.ReadWrite.All) (C(Group.Create) suffices to create);
    C(User.Read.All) and C(Device.Read.All) to resolve members by name; C(DeviceManagementServiceConfig.Read.All) for
    O(state=absent) unless O(delete_assigned=true). To add or remove O(members), Microsoft's
    current Add members page (api-reference/v1.0/api/group-post-members.md) lists as least privilege
    C(GroupMember.ReadWrite.All) together with C(User.ReadWrite.All) for users or C(Device.ReadWrite.All) for
    devices; earlier versions of that page listed C(Group.ReadWrite.All) alone. A 403 names the permission."
  - The group is returned as Graph returns it (camelCase keys), without C(@odata.context).
seealso:
  - module: intune.autopilot.aad_group_info
  - name: Create a device group for Windows Autopilot
    description: Microsoft's rules for Autopilot device groups.
    link: https://learn.microsoft.com/autopilot/enrollment-autopilot
extends_documentation_fragment:
  - intune.autopilot.graph_auth
  - intune.autopilot.check_mode
  - intune.autopilot.attributes
  - intune.autopilot.attributes.action_group
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

from ansible_collections.intune.autopilot.plugins.module_utils._graph_module import CHECK_MODE_MISSING_ARGSPEC, GraphModule
from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import Context, ensure
from ansible_collections.intune.autopilot.plugins.module_utils._aad_group import RULE_OPTIONS, resource


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
            delete_assigned=dict(type="bool", default=False),
            check_mode_missing=CHECK_MODE_MISSING_ARGSPEC,
            wait_timeout=dict(type="int", default=120),
        ),
        required_one_of=[["display_name", "id"]],
        mutually_exclusive=[list(RULE_OPTIONS)],
        supports_check_mode=True,
    )
    module.run(lambda: ensure(Context(module, resource())))


if __name__ == "__main__":
    main()

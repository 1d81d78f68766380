#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: aad_group_info
short_description: Read Microsoft Entra groups
version_added: 0.1.0
description:
  - Returns Microsoft Entra ID groups through Microsoft Graph v1.0, found by display name, by id, by an OData
    filter, or all of them, as a list.
  - Every group with the display name is returned, since Graph allows several; the list is empty when none matches.
author:
  - intune.autopilot contributors (@intune-autopilot)
options:
  display_name:
    description: Return the groups with this display name (compared without regard to case).
    type: str
    aliases: [name]
  id:
    description: Return the group with this object id.
    type: str
  filter:
    description:
      - An OData C($filter) expression for C(GET /groups), for example C(startswith(displayName,'Autopilot')).
      - Filters that Graph calls advanced queries (C(ne), C(not), C(endsWith)) are sent with C(ConsistencyLevel eventual)
        and C($count=true).
    type: str
  include_members:
    description: Add each group's direct members (id, display name, user principal name, C(@odata.type)) under C(members).
    type: bool
    default: false
notes:
  - "Graph application permissions: C(Group.Read.All) (C(GroupMember.Read.All) also lists members)."
seealso:
  - module: intune.autopilot.aad_group
extends_documentation_fragment:
  - intune.autopilot.graph_auth
  - intune.autopilot.attributes.info_module
  - intune.autopilot.attributes.action_group
"""

EXAMPLES = r"""
- name: Find the Autopilot device group
  intune.autopilot.aad_group_info:
    display_name: Autopilot devices
  register: found

- name: All groups whose name starts with Autopilot, with their members
  intune.autopilot.aad_group_info:
    filter: startswith(displayName,'Autopilot')
    include_members: true
"""

RETURN = r"""
groups:
  description: The groups found, as Graph returns them; empty when none matches.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 0b6d7e5f-2f1c-4d8e-9a3b-7c1d2e3f4a5b
      displayName: Autopilot devices
      groupTypes: [DynamicMembership]
      membershipRule: (device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))
      members:
        - id: 5c3e8a1b-1111-4e2f-8a9b-0c1d2e3f4a5b
          displayName: DESKTOP-12AB34C
"""

import re

from ansible_collections.intune.autopilot.plugins.module_utils._graph_module import info_module
from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import Context, info
from ansible_collections.intune.autopilot.plugins.module_utils._aad_group import resource

ADVANCED = re.compile(r"\b(ne|not|endswith)\b", re.IGNORECASE)


def run(module):
    ctx = Context(module, resource())
    query, headers = None, None
    if module.params.get("filter"):
        query = {"$filter": module.params["filter"]}
        if ADVANCED.search(module.params["filter"]):
            # aad-advanced-queries: ne, not and endsWith need ConsistencyLevel eventual and $count=true.
            query["$count"] = "true"
            headers = {"ConsistencyLevel": "eventual"}
    groups = info(ctx, query, headers)
    if module.params.get("include_members"):
        for group in groups:
            group["members"] = module.client.list(
                "/groups/%s/members" % group["id"], api="v1.0", params={"$select": "id,displayName,userPrincipalName"})
    return {"changed": False, "groups": groups}


def main():
    module = info_module(exclusive=["filter"], filter=dict(type="str"), include_members=dict(type="bool", default=False))
    module.run(lambda: run(module))


if __name__ == "__main__":
    main()

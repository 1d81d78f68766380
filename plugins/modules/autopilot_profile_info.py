#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: autopilot_profile_info
short_description: List Windows Autopilot deployment profiles with their assignments and devices
version_added: 0.1.0
description:
  - "Returns Windows Autopilot deployment profiles (Graph beta C(/deviceManagement/windowsAutopilotDeploymentProfiles)):
    all of them, the ones with a display name, or the one with an id."
  - By default only Microsoft Entra join profiles (C(#microsoft.graph.azureADWindowsAutopilotDeploymentProfile)) are
    returned, the ones M(intune.autopilot.autopilot_profile) manages; hybrid join profiles
    (C(#microsoft.graph.activeDirectoryWindowsAutopilotDeploymentProfile)) are left out, and an id of one returns an
    empty list. O(entra_join_only=false) returns every profile of the tenant, each with its C(@odata.type).
  - Each profile carries its group assignments with group names and its scope tags by name, in the shape of the
    C(assignments) and C(scope_tags) options of M(intune.autopilot.autopilot_profile), so the result can be fed back to
    that module.
author:
  - intune.autopilot contributors (@intune-autopilot)
options:
  display_name:
    description:
      - Only the profiles with this name (compared without regard to case; Graph cannot filter profiles, so the list is
        read and matched here). More than one profile may carry a name.
    type: str
    aliases: [name]
  id:
    description: Only the profile with this id (an empty list when it does not exist).
    type: str
  entra_join_only:
    description:
      - Return only Microsoft Entra join profiles (true), or every deployment profile the tenant holds, hybrid join
        ones included (false; what the playbook C(intune.autopilot.export) reads to list what the role does not manage).
    type: bool
    default: true
  include_assignments:
    description: Add each profile's assignments under C(assignments) (one request per profile).
    type: bool
    default: true
  include_devices:
    description:
      - Add the Autopilot devices whose profile this is under C(assignedDevices), as Graph returns them
        (C(windowsAutopilotDeviceIdentity), one request per profile).
    type: bool
    default: false
notes:
  - "Graph application permissions: C(DeviceManagementServiceConfig.Read.All); C(Group.Read.All) to name the assigned
    groups; C(DeviceManagementRBAC.Read.All) to name scope tags. When a name cannot be read (no permission, or the object
    is gone) its id is shown and a warning says why."
seealso:
  - module: intune.autopilot.autopilot_profile
extends_documentation_fragment:
  - intune.autopilot.graph_auth
  - intune.autopilot.attributes.info_module
  - intune.autopilot.attributes.action_group
"""

EXAMPLES = r"""
- name: Every profile with its assignments
  intune.autopilot.autopilot_profile_info:
  register: all_profiles

- name: One profile and the devices it is assigned to
  intune.autopilot.autopilot_profile_info:
    display_name: Autopilot user driven
    include_devices: true
  register: found

- name: Every profile, hybrid join ones included
  intune.autopilot.autopilot_profile_info:
    entra_join_only: false
  register: every_kind

- name: Names of the hybrid join profiles
  ansible.builtin.debug:
    msg: "{{ every_kind.profiles | selectattr('@odata.type', 'search', 'activeDirectory') | map(attribute='displayName') | list }}"

- name: Serial numbers of the devices that got the profile
  ansible.builtin.debug:
    msg: "{{ found.profiles[0].assignedDevices | map(attribute='serialNumber') | list }}"
"""

RETURN = r"""
profiles:
  description: The profiles found, as Graph returns them, plus C(assignments) (and C(assignedDevices)); empty when none
    matches.
  returned: always
  type: list
  elements: dict
  contains:
    assignments:
      description:
        - The assignments in the shape of the C(assignments) option (C(group) name, C(exclude), C(all_devices)).
        - A group that no longer exists is shown by its id.
      returned: when include_assignments is true
      type: list
      elements: dict
    scope_tags:
      description: The display names of the scope tags in C(roleScopeTagIds) (the id when a tag cannot be read).
      type: list
      elements: str
      returned: always
    assignedDevices:
      description: The Autopilot device identities whose profile this is, as Graph returns them.
      returned: when include_devices is true
      type: list
      elements: dict
  sample:
    - "@odata.type": "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile"
      id: 6b1f4c3e-58a3-4b5e-9d44-2f1a0c7e9b10
      displayName: Autopilot user-driven
      locale: os-default
      deviceNameTemplate: CONTOSO-%SERIAL%
      roleScopeTagIds: ["0"]
      outOfBoxExperienceSetting: {userType: standard, deviceUsageType: singleUser}
      scope_tags: [Default]
      assignments:
        - group: Autopilot devices
      assignedDevices:
        - id: 3c9a7d2e-0000-4000-8000-000000000001
          serialNumber: "5CG1234XYZ"
          deploymentProfileAssignmentStatus: assignedInSync
"""

from ansible_collections.intune.autopilot.plugins.module_utils._graph_module import info_module
from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import Context, info, names
from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_profile import PATH, ProfileAssignments, resource


def run(module):
    ctx = Context(module, resource(entra_join_only=module.params["entra_join_only"]))
    profiles = info(ctx)
    for profile in profiles:
        profile.update(names(ctx, profile))
        if module.params["include_assignments"]:
            assignments = ProfileAssignments()
            profile["assignments"] = assignments.describe(ctx, assignments.current(ctx, profile), lenient=True)
        if module.params["include_devices"]:
            profile["assignedDevices"] = module.client.list("%s/%s/assignedDevices" % (PATH, profile["id"]), api="beta")
    return {"changed": False, "profiles": profiles}


def main():
    module = info_module(entra_join_only=dict(type="bool", default=True), include_assignments=dict(type="bool", default=True),
                         include_devices=dict(type="bool", default=False))
    module.run(lambda: run(module))


if __name__ == "__main__":
    main()

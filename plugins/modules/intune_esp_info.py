#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: intune_esp_info
short_description: Read Windows Enrollment Status Page (ESP) profiles from Intune
version_added: 0.1.0
description:
  - Returns the Intune Enrollment Status Page profiles (Graph beta C(windows10EnrollmentCompletionPageConfiguration)),
    all of them, the ones with a display name, or the one with an id. The built-in default ESP is included and flagged.
  - Each profile comes as Graph returns it, plus its assignments with group and filter names, its selected apps and its
    scope tags by name, in the shape of the M(intune.autopilot.intune_esp) options, so a result can be fed back to it.
author:
  - intune.autopilot contributors (@intune-autopilot)
options:
  display_name:
    description:
      - Only the profiles with this display name (compared without case). The default ESP's name is
        C(All users and all devices).
    type: str
    aliases: [name]
  id:
    description: Only the profile with this id; an id that does not exist returns an empty list.
    type: str
  include_assignments:
    description:
      - Read each profile's assignments and name their groups and filters (one request per profile, and one per group).
    type: bool
    default: true
notes:
  - "Graph application permissions: C(DeviceManagementServiceConfig.Read.All) for the profiles and their assignments;
    C(DeviceManagementApps.Read.All) to name the selected apps; C(DeviceManagementRBAC.Read.All) to name scope tags;
    C(Group.Read.All) to name groups; C(DeviceManagementConfiguration.Read.All) to name assignment filters.
    When a name cannot be read (no permission, or the object is gone) its id is shown and a warning says why."
seealso:
  - module: intune.autopilot.intune_esp
extends_documentation_fragment:
  - intune.autopilot.graph_auth
  - intune.autopilot.attributes
  - intune.autopilot.attributes.info_module
  - intune.autopilot.attributes.action_group
"""

EXAMPLES = r"""
- name: All ESP profiles, the default one included
  intune.autopilot.intune_esp_info:
  register: result

- name: The names of the groups the tutorial ESP is assigned to
  ansible.builtin.debug:
    msg: "{{ (result.esps | selectattr('displayName', 'equalto', 'Autopilot ESP') | first).assignments | map(attribute='group') }}"

- name: One profile by name
  intune.autopilot.intune_esp_info:
    display_name: Autopilot ESP
"""

RETURN = r"""
esps:
  description:
    - The profiles, ordered by priority (the default ESP last), each as Graph returns it plus the keys below;
      an empty list when nothing matches.
  returned: always
  type: list
  elements: dict
  contains:
    is_default:
      description: Whether this is the built-in default ESP.
      type: bool
    assignments:
      description: The assignments in the shape of the O(intune.autopilot.intune_esp#module:assignments) option, by name.
      type: list
      elements: dict
      returned: when include_assignments is true
    selected_apps:
      description: The display names of the apps in C(selectedMobileAppIds) (the id when the app cannot be read).
      type: list
      elements: str
    scope_tags:
      description: The display names of the scope tags in C(roleScopeTagIds).
      type: list
      elements: str
  sample:
    - "@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration"
      id: 3f1c2e4d-5a6b-4c7d-8e9f-0a1b2c3d4e5f_Windows10EnrollmentCompletionPageConfiguration
      displayName: Autopilot ESP
      priority: 1
      showInstallationProgress: true
      selectedMobileAppIds: [7d1e0f1c-8b1f-4d0a-9a51-0c3c2f1e5b77]
      roleScopeTagIds: ["0"]
      is_default: false
      assignments:
        - group: Autopilot devices
      selected_apps: [Contoso VPN Client]
      scope_tags: [Default]
"""

from ansible_collections.intune.autopilot.plugins.module_utils._graph_module import info_module
from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import Context, info, names
from ansible_collections.intune.autopilot.plugins.module_utils._intune_esp import Assignments, is_default, resource


def run(module):
    ctx = Context(module, resource(include_default=True))
    esps = info(ctx)
    for esp in esps:
        esp["is_default"] = is_default(esp)
        esp.update(names(ctx, esp))
        if module.params["include_assignments"]:
            esp["assignments"] = Assignments().describe(ctx, Assignments().current(ctx, esp), lenient=True)
    esps.sort(key=lambda e: (e["is_default"], e.get("priority") or 0, (e.get("displayName") or "").lower()))
    return {"changed": False, "esps": esps}


def main():
    module = info_module(include_assignments=dict(type="bool", default=True))
    module.run(lambda: run(module))


if __name__ == "__main__":
    main()

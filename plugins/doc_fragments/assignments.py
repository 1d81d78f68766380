# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """The shared ``assignments`` option (plugins/module_utils/_graph_assignments.py)."""

    DOCUMENTATION = r'''
options:
  assignments:
    description:
      - The complete list of assignment targets, as on the portal's B(Assignments) page. Targets not listed are
        removed; the order of the list does not matter. Omit the option to leave the assignments as they are;
        an empty list removes every assignment.
      - Each entry names exactly one target, O(assignments[].group) (optionally excluded with
        O(assignments[].exclude)), O(assignments[].all_devices) or O(assignments[].all_users).
      - Groups and assignment filters are given by display name (or object id); a name that matches no object or
        several objects is an error that names the entry, before anything is written.
      - V(all_devices) together with excluded groups is refused, because Intune does not support exclusions on an
        "All devices" assignment (MicrosoftDocs/memdocs autopilot/profiles.md). A group listed both included and
        excluded, or twice, is refused.
      - Assignments are compared by target and filter, so a changed filter is a change of that one target.
      - Some resources take only some targets or no filters; the module's documentation says which.
    type: list
    elements: dict
    suboptions:
      group:
        description:
          - The display name (or object id) of a Microsoft Entra group to include, or to exclude with
            O(assignments[].exclude).
        type: str
      exclude:
        description:
          - Exclude the members of O(assignments[].group) instead of including them.
          - Exclusions take no filter.
        type: bool
        default: false
      all_devices:
        description: Assign to all devices (the portal's B(Add all devices)).
        type: bool
        default: false
      all_users:
        description: Assign to all licensed users (the portal's B(Add all users)).
        type: bool
        default: false
      filter:
        description:
          - The display name (or id) of an Intune assignment filter that narrows this target
            (the portal's B(Edit filter)).
        type: str
      filter_mode:
        description:
          - Whether the filter includes or excludes the devices it matches.
          - Defaults to V(include) when O(assignments[].filter) is set; only allowed with it.
        type: str
        choices: [include, exclude]
'''

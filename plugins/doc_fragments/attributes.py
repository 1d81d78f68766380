# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # For modules that change state: intune.autopilot.attributes
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    support: full
    description: Can run in C(check_mode) and return the predicted result and change status without modifying the tenant.
  diff_mode:
    support: full
    description: Returns a diff of the managed properties (before and after) on every run, and in C(check_mode) the predicted one.
'''

    # For the _info modules: intune.autopilot.attributes.info_module
    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    support: full
    details: This module only reads from Microsoft Graph, so it runs the same in check mode.
    description: Can run in C(check_mode) and return changed status prediction without modifying the tenant.
  diff_mode:
    support: N/A
    details: This module does not change anything.
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
'''

    # For every module: intune.autopilot.attributes.action_group
    ACTION_GROUP = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/intune.autopilot.graph) in C(module_defaults) to set the connection options once for all modules.
    support: full
    membership:
      - intune.autopilot.graph
'''

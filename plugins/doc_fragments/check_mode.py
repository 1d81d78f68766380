# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """The ``check_mode_missing`` option of the modules that resolve names of other objects."""

    DOCUMENTATION = r'''
options:
  check_mode_missing:
    description:
      - What a name that matches no object does in check mode (a group in C(assignments), a member, a device
        serial that is not registered and comes without a hardware hash).
      - V(fail), the default, fails the task as the real run would, so a misspelled name is caught by C(--check).
      - V(warn) warns and predicts the rest of the task as if an earlier task of the same play created the object.
        This is for a play that creates the object itself in an earlier task, such as the role
        C(intune.autopilot.user_driven_join) checked against an empty tenant, which sets it.
      - Outside check mode a missing name always fails the task.
    type: str
    choices: [fail, warn]
    default: fail
'''

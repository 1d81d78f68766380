#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: autopilot_device_info
short_description: Read Windows Autopilot devices
version_added: 0.1.0
description:
  - Returns Windows Autopilot device identities (C(windowsAutopilotDeviceIdentity), Graph beta) as a list, either all of
    them, or those matching serial numbers, a group tag, or profile assignment states.
  - Reads follow C(@odata.nextLink) through every page. A handful of serial numbers (up to 10, letters
    and digits only) is looked up with C($filter=contains(serialNumber,'...')), anything else by reading the list
    and filtering here, since Graph documents no C($filter) on this collection and answers 400 to
    C(serialNumber eq '...'). When the service answers 400 to the C(contains) filter as well, the module warns, reads the
    whole list and matches the serial numbers itself.
author:
  - intune.autopilot contributors (@intune-autopilot)
extends_documentation_fragment:
  - intune.autopilot.graph_auth
  - intune.autopilot.attributes.info_module
  - intune.autopilot.attributes.action_group
options:
  serial_numbers:
    description: Return the devices with these serial numbers (compared without regard to case). Serials not found are left out.
    type: list
    elements: str
  group_tag:
    description: Return the devices with this group tag (exact, case-insensitive). An empty string matches devices without one.
    type: str
  profile_status:
    description:
      - Return the devices whose C(deploymentProfileAssignmentStatus) is one of these values.
      - C(assigned) stands for the three C(assigned...) values.
    type: list
    elements: str
    choices: [assigned, assignedInSync, assignedOutOfSync, assignedUnkownSyncState, notAssigned, pending, failed, unknown]
notes:
  - "Graph application permission: C(DeviceManagementServiceConfig.Read.All) (or C(ReadWrite.All))."
seealso:
  - module: intune.autopilot.autopilot_device
"""

EXAMPLES = r"""
- name: All Autopilot devices
  intune.autopilot.autopilot_device_info:
  register: all_devices

- name: Devices of a site whose profile is not assigned yet
  intune.autopilot.autopilot_device_info:
    group_tag: Berlin
    profile_status: [notAssigned, pending, failed]
  register: waiting

- name: Two devices by serial number
  intune.autopilot.autopilot_device_info:
    serial_numbers: [PF3ABC12, PF3ABC13]
"""

RETURN = r"""
devices:
  description: The matching devices as Graph returns them (camelCase); empty when nothing matches.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 0fe3b8c2-7c2e-4d47-9d5a-0c3b1b3c1e11
      serialNumber: PF3ABC12
      groupTag: Berlin
      deploymentProfileAssignmentStatus: assignedInSync
      userPrincipalName: ""
      displayName: ""
"""

from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_device_graph import DeviceReader
from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_device_input import serial_key
from ansible_collections.intune.autopilot.plugins.module_utils._graph_module import GraphModule


def select_devices(devices, serial_numbers=None, group_tag=None, profile_status=None):
    """Filter a device list by the module's options (all given options must match)."""
    wanted = set(serial_key(s) for s in serial_numbers) if serial_numbers is not None else None
    statuses = set(profile_status or [])
    if "assigned" in statuses:
        statuses.update(("assignedInSync", "assignedOutOfSync", "assignedUnkownSyncState"))
    out = []
    for device in devices:
        if wanted is not None and serial_key(device.get("serialNumber")) not in wanted:
            continue
        if group_tag is not None and (device.get("groupTag") or "").lower() != group_tag.lower():
            continue
        if statuses and device.get("deploymentProfileAssignmentStatus") not in statuses:
            continue
        out.append(device)
    return out


def run(module):
    p = module.params
    reader = DeviceReader(module.client)  # the reads of autopilot_device, every property
    devices = reader.read(p["serial_numbers"]) if p["serial_numbers"] is not None else reader.list_all()
    for warning in reader.warnings:
        module.warn(warning)
    module.exit_json(changed=False, devices=select_devices(devices, p["serial_numbers"], p["group_tag"], p["profile_status"]))


def main():
    module = GraphModule(
        argument_spec=dict(
            serial_numbers=dict(type="list", elements="str"),
            group_tag=dict(type="str"),
            profile_status=dict(type="list", elements="str", choices=[
                "assigned", "assignedInSync", "assignedOutOfSync", "assignedUnkownSyncState", "notAssigned", "pending",
                "failed", "unknown"]),
        ),
        supports_check_mode=True,
    )
    module.run(lambda: run(module))


if __name__ == "__main__":
    main()

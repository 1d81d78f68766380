#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: autopilot_device
short_description: Register Windows Autopilot devices by hardware hash, one or thousands in one task
version_added: 0.1.0
description:
  - Manages Windows Autopilot device identities in Microsoft Intune through Microsoft Graph (beta).
  - Takes one device (O(serial_number) and the other top-level device options), a list (O(devices)), a CSV file
    as Get-WindowsAutopilotInfo and OEMs write it (O(csv_path)), or any mix of the three.
  - Every input is checked before anything is sent. Then the devices already registered are read in pages (not one
    request per device), and each requested device is planned as C(imported), C(updated), C(unchanged),
    C(deleted) or C(absent).
  - New devices are sent to the C(importedWindowsAutopilotDeviceIdentities/import) action in batches of
    O(batch_size). The module polls and deletes only this run's import records, known by the ids the import
    answers return (not by C(importId), which the service may overwrite). When devices were added, one Autopilot
    sync is triggered.
  - Devices that are already registered are not imported again. Their group tag and display name are set through
    C(updateDeviceProperties), their user through C(assignUserToDevice) or C(unassignUserFromDevice), each only
    when it differs. These calls and the deletes go through JSON batching, 20 per request; two calls on one device
    go in separate requests, the second after the first answered.
  - Every write of a task (imports, action calls, deletes, the sync) is paced under Intune's limit of 100 writes per
    20 seconds per application.
  - In check mode nothing is written; the result and the diff predict what a real run would do.
author:
  - intune.autopilot contributors (@intune-autopilot)
extends_documentation_fragment:
  - intune.autopilot.graph_auth
  - intune.autopilot.check_mode
  - intune.autopilot.attributes
  - intune.autopilot.attributes.action_group
options:
  serial_number:
    description:
      - Serial number of one device. The other top-level device options (O(hardware_identifier), O(product_key),
        O(assigned_user), O(addressable_user_name), O(display_name)) belong to this device.
      - Serial numbers are matched without regard to case and surrounding spaces.
    type: str
  hardware_identifier:
    description:
      - The device's hardware hash (the 4K hash), base64 encoded, as in the C(Hardware Hash) column of the CSV.
      - Required to import a device that is not registered yet; ignored for devices already registered (Graph does
        not return the hash of a registered device).
      - Checked before any call; it must be base64 and decode to between 16 and 65,536 bytes.
    type: str
    aliases: [hardware_hash]
  product_key:
    description: The Windows product ID (C(Windows Product ID) in the CSV). Sent with the import only.
    type: str
  group_tag:
    description:
      - Group tag (Entra ID C(OrderID)) of the device; dynamic device groups select devices by it.
      - With O(devices) or O(csv_path), it also applies to every device that sets no group tag of its own.
      - An empty string removes the group tag. Omitted, the group tag is left as it is.
    type: str
  assigned_user:
    description:
      - User principal name of the user to assign to the device. The user is looked up in Microsoft Entra ID before
        any change, and the task fails when there is no such user.
      - An empty string unassigns the user. Omitted, the assignment is left as it is.
      - Assigning a user pre-fills the sign-in name during Autopilot; it no longer shows a personalised greeting.
    type: str
  addressable_user_name:
    description:
      - Friendly name shown for the assigned user (C(addressableUserName)). Requires O(assigned_user).
      - Omitted, a user assignment sends the user's display name from Microsoft Entra ID, as the portal fills its
        user friendly name field, and the friendly name already on a device is not compared.
    type: str
  display_name:
    description:
      - The computer name given to the device during an Entra join deployment (C(displayName)).
      - For a new device it is set after the import completes, so it needs O(wait).
    type: str
  state:
    description:
      - C(present) registers (or updates) the devices; C(absent) deletes exactly the named devices and no others.
      - For C(absent), a device's assigned user is unassigned first, then the device is deleted, as in Microsoft's
        deregistration steps. Intune removes it from its list some time later; with O(wait) the module waits until
        the list no longer holds it, so that a re-run finds it gone. Graph shows nothing of a deletion under way: a
        re-run while Intune still lists the device (after O(wait=false) or a timeout) sends the deletion again.
      - A device in O(devices) may set its own I(state).
    type: str
    choices: [present, absent]
    default: present
  devices:
    description: A list of devices. Each item takes the same keys as the top-level device options.
    type: list
    elements: dict
    suboptions:
      serial_number:
        description: Serial number.
        type: str
        required: true
      hardware_identifier:
        description: Hardware hash, base64.
        type: str
        aliases: [hardware_hash]
      product_key:
        description: Windows product ID.
        type: str
      group_tag:
        description: Group tag; when omitted, O(group_tag) applies.
        type: str
      assigned_user:
        description: User principal name; an empty string unassigns.
        type: str
      addressable_user_name:
        description: Friendly name of the assigned user.
        type: str
      display_name:
        description: Computer name for Entra join deployments.
        type: str
      state:
        description: C(present) or C(absent); when omitted, O(state) applies.
        type: str
        choices: [present, absent]
  csv_path:
    description:
      - A CSV file of devices, with the header C(Device Serial Number,Windows Product ID,Hardware Hash) and optionally
        C(Group Tag) and C(Assigned User).
      - Header names are matched without regard to case, spaces and underscores; a byte-order mark (UTF-8 or the
        UTF-16 that Windows PowerShell's C(Out-File) writes) and quoted fields are accepted; unknown columns are
        ignored with a warning; empty lines are skipped.
      - Rows without a serial or a hash, hashes that are not base64, users that are not UPNs, and the same serial with
        different hashes are reported with their line numbers before anything is sent.
    type: path
  batch_size:
    description:
      - Devices per C(import) request.
      - Intune allows 100 write requests per 20 seconds per application and tenant; the portal imports CSV files of at
        most 500 rows. 100 keeps each request well inside what the portal itself sends, and 1,000 devices take 10
        writes.
    type: int
    default: 100
  wait:
    description:
      - Wait until the import records of this run are C(complete) or C(error) (and, with O(wait_for=profile_assigned),
        until the profiles are assigned), then delete the import records (see O(cleanup_import_records)).
      - After the import (and the sync) it also waits until Intune lists every imported device, which can take a while
        after the import records complete, then sets the display names and friendly user names of the new devices.
      - With O(state=absent) it waits until Intune no longer lists the deleted devices.
        When O(wait_timeout) runs out first, the task fails, the result still lists the devices, and a warning names
        the devices whose settings were not applied; a re-run applies them.
      - Without waiting the import records are left for Intune to process, per-device import errors are not known, and
        display names of new devices are not set; run the task again later to confirm.
    type: bool
    default: true
  wait_for:
    description:
      - C(imported) waits for the import to finish.
      - C(profile_assigned) also waits until Intune reports every requested device's profile assigned:
        C(deploymentProfileAssignmentStatus) C(assignedInSync), or C(assignedUnkownSyncState) (the enum's spelling:
        assigned in Intune, sync state unknown), and C(deploymentProfileAssignedDateTime) set, which the portal shows as
        "Date assigned" and Microsoft says to wait for before deploying a device.
      - C(assignedOutOfSync) ("not in sync with Windows auto pilot program") is waited on, since the Autopilot service
        does not have the assignment yet. A device whose status becomes C(failed) is reported as failed.
      - When the wait times out, the message says for each device why it still waits, where Intune tells: pending,
        not in sync, the profile Intune intends for it, or no profile targeting it at all (its group tag matches no
        group that a profile is assigned to).
    type: str
    choices: [imported, profile_assigned]
    default: imported
  wait_timeout:
    description:
      - Seconds to wait in total. On timeout the task fails and names every serial still waiting with the state it was
        last seen in. Devices already registered are kept; a re-run recognises them and carries on. A device whose
        import completed but which Intune does not list yet keeps its import record, so a re-run syncs and waits for
        it instead of importing it again (which would end in error 806).
      - Keep it above 600 when several tasks or sites import at the same time, because Intune accepts one Autopilot sync every
        10 minutes, and a device is listed only after a sync.
    type: int
    default: 1800
  poll_interval:
    description: Seconds between two reads of the import records or devices while waiting. Each read is one paged list.
    type: int
    default: 15
  fail_on_error:
    description:
      - Fail the task when any device failed (import error, action call refused, profile assignment failed).
      - Devices that succeeded are never rolled back. With C(false) the failures are only in RV(devices) and RV(summary).
      - Input errors (bad hashes, unknown users, serials to update that are not registered) always fail, before any write.
    type: bool
    default: true
  cleanup_import_records:
    description:
      - Delete this run's import records (C(importedWindowsAutopilotDeviceIdentities)), and only those, once each
        import finished, as Microsoft's own import scripts do. Records of other runs and other tools are never touched,
        except the records of an earlier run for the same serials that this run adopts and waits for.
      - A complete record whose device Intune does not list yet when the wait ends is kept, as the next run's evidence
        that the device is imported. A later run that adopts it deletes it once the device is listed; a later run that
        finds the device listed already does not look for it, so it stays until it is deleted in the portal (harmless,
        as with C(false)).
      - Each record is one DELETE; they go 20 to a C($batch), and Intune counts each against its limit of 100 writes
        per 20 seconds. They are sent while the module waits (for the devices to be listed, for their profiles), in
        the write budget the other calls leave, so the clean-up adds little to a task that waits; 1,000 records take
        about 200 seconds of writes.
      - With C(false) the records stay in the tenant until someone deletes them; the devices are registered either way.
    type: bool
    default: true
  sync:
    description:
      - Trigger one Autopilot sync (C(windowsAutopilotSettings/sync)) when devices were imported, so they show up sooner.
      - Intune refuses a sync within 10 minutes of the previous one (429) or while one runs (409); the 429 is a rule,
        not throttling, so it is never retried at once. While O(wait) waits for Intune to list the imported devices,
        the module sends the sync again when Intune can accept it (no sync running and 10 minutes after the last one,
        read from C(windowsAutopilotSettings), or after a C(Retry-After)), at most once per 10 minutes. One warning
        sums up the refusals when none was accepted.
    type: bool
    default: true
notes:
  - "Graph application permissions: C(DeviceManagementServiceConfig.ReadWrite.All); with O(assigned_user) also
    C(User.Read.All) to look the user up."
  - "Progress: Ansible shows nothing while a module runs. The module writes the counts per state to the system log
    on each poll, and returns them in RV(progress)."
  - "Looking up registered devices: up to 10 serials (letters and digits only) are read with
    C($filter=contains(serialNumber,'...')); Graph answers 400 to C(serialNumber eq '...') and has been seen to refuse
    hyphens in C(contains). Otherwise the whole device list is read, following C(@odata.nextLink) (Intune picks the page size; about 1,000 is reported)."
  - "Serial numbers go into the filter in capitals, as hardware serials are written. Whether Intune compares them with
    case is not documented: a serial not written in capitals that the filter does not find is looked up in the whole
    list before it counts as not registered."
  - "Import error codes: 806 C(ZtdDeviceAlreadyAssigned) - the hash is already registered to this tenant;
    808 C(ZtdDeviceAssignedToOtherTenant) - registered to another tenant, which must release it;
    C(ZtdDeviceDuplicated) - the same hash twice in one upload; C(InvalidZtdHardwareHash) - the hash is invalid;
    C(StorageError) - transient, retry later."
  - "A device must be removed from Intune and Entra ID before its Autopilot registration can be deleted."
seealso:
  - module: intune.autopilot.autopilot_device_info
  - name: Manually register devices with Windows Autopilot
    description: The CSV format and the import errors.
    link: https://learn.microsoft.com/autopilot/add-devices
  - name: importedWindowsAutopilotDeviceIdentity import action
    description: The Graph action used to register devices.
    link: https://learn.microsoft.com/graph/api/intune-enrollment-importedwindowsautopilotdeviceidentity-import
"""

EXAMPLES = r"""
# Serial numbers, hashes and users below are examples; assigned users must exist in your tenant.
- name: Register one device
  intune.autopilot.autopilot_device:
    serial_number: PF3ABC12
    hardware_identifier: "{{ lookup('file', 'hashes/PF3ABC12.txt') }}"
    group_tag: Sales

- name: Register a site's laptops from the OEM's CSV and wait until their profile is assigned
  intune.autopilot.autopilot_device:
    csv_path: files/site-berlin.csv
    group_tag: Berlin          # for rows without a Group Tag
    wait_for: profile_assigned
    wait_timeout: 3600
  register: import

- name: Show what failed
  ansible.builtin.debug:
    msg: "{{ import.devices | selectattr('action', 'eq', 'failed') | list }}"

- name: Move two devices to another group tag and assign a user to one
  intune.autopilot.autopilot_device:
    devices:
      - serial_number: PF3ABC12
        group_tag: Kiosk
      - serial_number: PF3ABC13
        group_tag: Kiosk
        assigned_user: anna@contoso.com

- name: Unassign the user
  intune.autopilot.autopilot_device:
    serial_number: PF3ABC13
    assigned_user: ""

- name: Deregister exactly these devices
  intune.autopilot.autopilot_device:
    devices:
      - serial_number: PF3ABC12
      - serial_number: PF3ABC13
    state: absent
"""

RETURN = r"""
devices:
  description: One entry per requested serial, in the order given (single device, then O(devices), then the CSV).
  returned: always
  type: list
  elements: dict
  contains:
    serial_number:
      description: The serial number as requested.
      type: str
    action:
      description:
        - What was done (in check mode, what would be done).
        - C(imported), C(updated), C(unchanged), C(deleted), C(absent) (not registered, nothing to delete),
          C(failed), or C(pending) (import sent, O(wait=false) or timed out before it finished).
      type: str
      sample: imported
    changes:
      description: For C(updated), each changed option with its C(before) and C(after) value.
      type: dict
      sample: {"group_tag": {"before": "Sales", "after": "Kiosk"}}
    device:
      description:
        - The C(windowsAutopilotDeviceIdentity) as Graph returns it (camelCase). For a failed or pending import, the
          import record. In check mode, a predicted device without an id.
      type: dict
    error_code:
      description: Graph's C(deviceErrorCode) for a failed import (for example 806 or 808), or the HTTP status of a refused call.
      type: int
      returned: when action is failed
    error_name:
      description: Graph's C(deviceErrorName) (for example C(ZtdDeviceAssignedToOtherTenant)) or error code.
      type: str
      returned: when action is failed
    error_message:
      description: A plain explanation of the error.
      type: str
      returned: when action is failed
summary:
  description: Count of devices per action, and C(total).
  returned: always
  type: dict
  sample: {"imported": 248, "failed": 2, "total": 250}
diff:
  description: The managed settings before and after, keyed by serial number, of the devices added, changed or removed.
  returned: always
  type: dict
import_id:
  description:
    - The C(importId) sent with this run's import records (null in check mode).
    - The service may store another value (the record id was seen), so use it to find this run's requests, not the records.
  returned: always
  type: str
progress:
  description:
    - The counts per state seen at each poll while waiting, with the seconds elapsed.
    - Phases C(import) (import records), C(listed) (new devices Intune lists), C(sync) (a refused sync sent again),
      C(deleted) (deleted devices still listed) and C(profile) (profile assignment status).
  returned: when the module waited
  type: list
  elements: dict
  sample: [{"phase": "import", "elapsed": 15, "counts": {"pending": 120, "complete": 880}}]
timed_out:
  description: True when the wait timed out (the task then fails).
  returned: on timeout
  type: bool
"""

from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_device_input import device_specs
from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_device_run import DeviceRun
from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import EngineError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_module import CHECK_MODE_MISSING_ARGSPEC, GraphModule

DEVICE_OPTIONS = dict(
    serial_number=dict(type="str"),
    hardware_identifier=dict(type="str", aliases=["hardware_hash"]),
    product_key=dict(type="str", no_log=True),
    group_tag=dict(type="str"),
    assigned_user=dict(type="str"),
    addressable_user_name=dict(type="str"),
    display_name=dict(type="str"),
)


def argument_spec():
    item = dict(DEVICE_OPTIONS, serial_number=dict(type="str", required=True), state=dict(type="str", choices=["present", "absent"]))
    return dict(
        DEVICE_OPTIONS,
        state=dict(type="str", default="present", choices=["present", "absent"]),
        devices=dict(type="list", elements="dict", options=item),
        csv_path=dict(type="path"),
        batch_size=dict(type="int", default=100),
        wait=dict(type="bool", default=True),
        wait_for=dict(type="str", default="imported", choices=["imported", "profile_assigned"]),
        wait_timeout=dict(type="int", default=1800),
        poll_interval=dict(type="int", default=15),
        fail_on_error=dict(type="bool", default=True),
        sync=dict(type="bool", default=True),
        cleanup_import_records=dict(type="bool", default=True),
        check_mode_missing=CHECK_MODE_MISSING_ARGSPEC,
    )


def run(module):
    """The module result; bad input, a timeout and failed devices are an EngineError (the edge fails the task)."""
    specs, warnings = device_specs(module.params)
    runner = DeviceRun(module, module.params)
    try:
        result = runner.run(specs, module.check_mode)
    finally:
        for warning in warnings + runner.warnings:
            module.warn(warning)
    failed = [d for d in result["devices"] if d["action"] == "failed"]
    if result.get("timed_out"):
        raise EngineError(result.pop("msg"), **result)
    if failed and module.params["fail_on_error"]:
        raise EngineError("%d of %d devices failed: %s" % (len(failed), len(result["devices"]), "; ".join(
            "%s: %s" % (d["serial_number"], d.get("error_name") and "%s (%s)" % (d["error_name"], d.get("error_message"))
                        or d.get("error_message")) for d in failed[:20])), **result)
    return result


def main():
    module = GraphModule(
        argument_spec=argument_spec(),
        required_one_of=[["serial_number", "devices", "csv_path"]],
        required_by={"addressable_user_name": "assigned_user"},
        supports_check_mode=True,
    )
    module.run(lambda: run(module))


if __name__ == "__main__":
    main()

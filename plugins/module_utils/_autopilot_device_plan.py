# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``autopilot_device`` manages on a device, declared once, and the plan made from it.

Internal to this collection; it may change in any release. Pure: no Graph call.

:data:`FIELDS` is the one table of managed settings: the option, the ``windowsAutopilotDeviceIdentity`` property,
and how it is written (in the import record, through ``updateDeviceProperties``, or through the user assignment).
Compare, diff, the import record, the action calls, check mode's prediction and the result all read it; a new
setting is one more row. Graph facts (microsoftgraph/microsoft-graph-docs-contrib, api-reference/beta):

* import record (resources/intune-enrollment-importedwindowsautopilotdeviceidentity.md): ``serialNumber``,
  ``hardwareIdentifier``, ``productKey``, ``groupTag``, ``assignedUserPrincipalName``, ``importId``;
* ``updateDeviceProperties`` (api/intune-enrollment-windowsautopilotdeviceidentity-updatedeviceproperties.md) takes
  ``groupTag`` and ``displayName`` among others; ``assignUserToDevice`` takes ``userPrincipalName`` and
  ``addressableUserName`` (both "Not yet documented"); ``unassignUserFromDevice`` takes no parameter, and inside
  ``$batch`` a write without a body is refused, so it is sent with ``{}`` (concepts/json-batching.md: "you must still
  specify the headers and body parameters where only body can be an empty object").

An :class:`Entry` is one requested device. Its ``action`` is what the plan decided and never changes; its
``outcome`` is what the run did, set once by the runner (``None`` until then).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_device_input import serial_key

DEVICES_PATH = "/deviceManagement/windowsAutopilotDeviceIdentities"

PROPERTIES = "updateDeviceProperties"
USER = "user"


class Field(object):
    """One managed setting: ``option`` <-> Graph ``prop``, written by ``writer`` (and ``record`` in the import)."""

    def __init__(self, option, prop, writer, record=None, casefold=False, needs_user=False, always=False):
        self.option, self.prop, self.writer, self.record = option, prop, writer, record
        self.casefold = casefold  # compared without case (UPNs)
        self.needs_user = needs_user  # compared and written only together with a user
        self.always = always  # Graph returns it, "" when unset: check mode predicts it for a new device

    def same(self, a, b):
        return (a or "").lower() == (b or "").lower() if self.casefold else (a or "") == (b or "")


FIELDS = (
    Field("group_tag", "groupTag", PROPERTIES, record="groupTag", always=True),
    Field("display_name", "displayName", PROPERTIES),
    Field("assigned_user", "userPrincipalName", USER, record="assignedUserPrincipalName", casefold=True),
    Field("addressable_user_name", "addressableUserName", USER, needs_user=True),
)
BY_OPTION = dict((f.option, f) for f in FIELDS)

# Plan actions (fixed once planned) and the outcomes a run reports (``devices[].action``).
IMPORT, UPDATE, UNCHANGED, DELETE, ABSENT, FAILED = "import", "update", "unchanged", "delete", "absent", "failed"
IMPORTED, UPDATED, DELETED, PENDING = "imported", "updated", "deleted", "pending"
PREDICTED = {IMPORT: IMPORTED, UPDATE: UPDATED, DELETE: DELETED}
CHANGES = (IMPORTED, UPDATED, DELETED, PENDING)


def managed_view(device):
    """The managed settings of a registered device, in option names."""
    return dict((f.option, (device or {}).get(f.prop) or "") for f in FIELDS)


def spec_view(spec):
    """The managed settings a spec asks for (for a new device: what it will have)."""
    return dict((f.option, spec[f.option]) for f in FIELDS if spec.get(f.option) is not None)


def friendly_name(spec):
    """The ``addressableUserName`` a user assignment sends: the one given, else the user's Entra display name.

    The parameter is "Not yet documented" (assignusertodevice.md); the portal fills its "User friendly name" field
    with the display name, so that is sent rather than an empty string whose effect is unknown. The same name is sent
    whether the user came with the import (a follow-up once the device is listed) or later.
    """
    name = spec.get("addressable_user_name")
    return name if name is not None else spec.get("user_display_name") or ""


def device_changes(spec, device, imported=False):
    """What differs between the spec and a registered device: ``{option: {"before", "after"}}``.

    Only settings the spec sets are compared; ``assigned_user: ''`` asks for no user. A friendly name is compared
    only with a user, and, when the spec sets none, only on a device this run imported (``imported``), which gets the
    same friendly name as a user assigned later; on other devices a friendly name the task does not set is left alone.
    """
    current = managed_view(device)
    changes = {}
    for field in FIELDS:
        wanted = spec.get(field.option)
        if field.needs_user:
            if not spec.get("assigned_user") or (wanted is None and not imported):
                continue
            wanted = friendly_name(spec)
        if wanted is not None and not field.same(wanted, current[field.option]):
            changes[field.option] = {"before": current[field.option], "after": wanted}
    return changes


def update_requests(device_id, spec, changes):
    """The action calls that apply ``changes`` to one registered device, in the order they must run.

    Group tag and display name go in one ``updateDeviceProperties``; the user through ``assignUserToDevice`` (with
    :func:`friendly_name`) or ``unassignUserFromDevice``. Each sets values, so sending it twice changes nothing more:
    ``repeatable`` lets the client send it again after a lost answer. The runner sends the calls of one device in
    separate ``$batch`` requests, one after the other: Graph may run the requests of one batch in any order
    (concepts/json-batching.md), and nothing documents whether two actions on one device may run at once.
    """
    base = "%s/%s" % (DEVICES_PATH, device_id)
    props = dict((f.prop, spec[f.option]) for f in FIELDS if f.writer == PROPERTIES and f.option in changes)
    calls = []
    if props:
        calls.append({"method": "POST", "url": base + "/updateDeviceProperties", "body": props, "repeatable": True})
    if any(BY_OPTION[option].writer == USER for option in changes):
        if spec["assigned_user"]:
            body = {"userPrincipalName": spec["assigned_user"], "addressableUserName": friendly_name(spec)}
            calls.append({"method": "POST", "url": base + "/assignUserToDevice", "body": body, "repeatable": True})
        else:
            calls.append({"method": "POST", "url": base + "/unassignUserFromDevice", "body": {}, "repeatable": True})
    return calls


def delete_requests(devices):
    """Unassign the user first, as Microsoft's deregistration steps do, then delete (memdocs: autopilot/includes/
    deregister-autopilot-device.md: "Unassign user" before "Delete")."""
    calls = [{"method": "POST", "url": "%s/%s/unassignUserFromDevice" % (DEVICES_PATH, d["id"]), "body": {},
              "repeatable": True} for d in devices if d.get("userPrincipalName")]
    return calls + [{"method": "DELETE", "url": "%s/%s" % (DEVICES_PATH, d["id"])} for d in devices]


def import_record(spec, import_id):
    """The body item for one device in ``importedWindowsAutopilotDeviceIdentities/import``."""
    record = {"serialNumber": spec["serial_number"], "hardwareIdentifier": spec["hardware_identifier"], "importId": import_id}
    if spec.get("product_key"):
        record["productKey"] = spec["product_key"]
    for field in FIELDS:
        if field.record and spec.get(field.option):
            record[field.record] = spec[field.option]
    return record


def imported_view(spec):
    """What an imported device carries before any follow-up call: the settings of the import record."""
    device = {"serialNumber": spec["serial_number"]}
    device.update((f.prop, spec.get(f.option) or "") for f in FIELDS if f.record)
    return device


def predicted_device(spec):
    """What a device to be imported will look like (check mode): no invented id."""
    device = {"serialNumber": spec["serial_number"]}
    for field in FIELDS:
        value = friendly_name(spec) if field.needs_user and spec.get("assigned_user") else spec.get(field.option)
        if field.always or value:
            device[field.prop] = value or ""
    return device


def apply_changes(device, changes):
    """``device`` as it will be after ``changes`` (check mode's prediction of an update)."""
    out = dict(device or {})
    out.update((BY_OPTION[option].prop, change["after"]) for option, change in changes.items())
    return out


class Entry(object):
    """One requested device. ``action`` is the plan's decision, ``outcome`` what the run did."""

    __slots__ = ("spec", "action", "changes", "device", "devices", "assumed", "missing", "record", "outcome", "error")

    def __init__(self, spec, action, devices=(), changes=None, assumed=False, missing=False, message=None):
        self.spec, self.action, self.devices = spec, action, list(devices)
        self.device = self.devices[0] if self.devices else ({} if assumed else None)
        self.changes, self.assumed, self.missing = changes or {}, assumed, missing
        self.record = None
        self.outcome = FAILED if action == FAILED else None
        self.error = (None, None, message) if message else None

    @property
    def serial(self):
        return self.spec["serial_number"]

    @property
    def key(self):
        return serial_key(self.spec["serial_number"])

    def fail(self, message, code=None, name=None):
        self.outcome = FAILED
        self.error = (code, name, message)

    def finish(self, outcome):
        if self.outcome != FAILED:
            self.outcome = outcome


def index_devices(devices):
    """``serial key -> [device, ...]`` for registered devices (a serial can, rarely, repeat)."""
    index = {}
    for device in devices:
        index.setdefault(serial_key(device.get("serialNumber")), []).append(device)
    return index


def plan_entry(spec, found, check_mode=False):
    """The :class:`Entry` of one spec, given the registered devices with its serial (``found``).

    With ``check_mode`` (check mode with
    ``check_mode_missing: warn``) a serial that is not registered and has no hash to import is planned as an update
    of a device an earlier task imports (``assumed``), as the resolver treats names of groups an earlier task
    creates; otherwise it fails, as in a real run.
    """
    if spec["state"] == "absent":
        return Entry(spec, DELETE if found else ABSENT, devices=found)
    if not found:
        if spec.get("hardware_identifier"):
            return Entry(spec, IMPORT)
        if check_mode:
            return Entry(spec, UPDATE, changes=device_changes(spec, {}), assumed=True)
        return Entry(spec, FAILED, missing=True, message="%s: serial %r is not registered and no hardware_identifier "
                                                          "is given to import it" % (spec["where"], spec["serial_number"]))
    if len(found) > 1:
        return Entry(spec, FAILED, devices=found, message="serial %r is registered %d times (ids %s); update them one by one "
                     "in the portal" % (spec["serial_number"], len(found), ", ".join(d.get("id", "?") for d in found)))
    changes = device_changes(spec, found[0])
    return Entry(spec, UPDATE if changes else UNCHANGED, devices=found, changes=changes)


def plan_devices(specs, index, check_mode=False):
    """One :class:`Entry` per spec, in order (see :func:`plan_entry`)."""
    return [plan_entry(spec, index.get(serial_key(spec["serial_number"]), []), check_mode) for spec in specs]


def build_diff(plan):
    """``{"before", "after"}`` keyed by serial, limited to managed settings, for the devices the plan changes."""
    before, after = {}, {}
    for entry in plan:
        if entry.action == IMPORT:
            after[entry.serial] = spec_view(entry.spec)
        elif entry.action == UPDATE:
            current = managed_view(entry.device)
            before[entry.serial] = dict((k, current[k]) for k in entry.changes)
            after[entry.serial] = dict((k, v["after"]) for k, v in entry.changes.items())
        elif entry.action == DELETE:
            before[entry.serial] = managed_view(entry.device)
    return {"before": {"devices": before}, "after": {"devices": after}}

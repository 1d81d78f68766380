# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows Autopilot device identities in bulk: input, validation, planning and the import engine.

This is private to the collection (leading underscore): modules ``autopilot_device`` and
``autopilot_device_info`` are its only callers. Registering devices is a bulk operation with an
asynchronous import, so it does not fit the single-resource engine; it is written here in two layers:

* pure functions (no I/O): hash/serial/UPN checks, the CSV reader, merging the three input forms
  into one list of device specifications, indexing the tenant's devices by serial number, and
  planning what each device needs (:func:`collect_specs`, :func:`plan_devices`);
* :class:`DeviceSync`, which reads the tenant, applies the plan through the Graph client and
  builds the module result.

Graph facts used here (shared/reference/graph-api.md sections 4, 5 and 6, each with its source):

* ``POST /deviceManagement/importedWindowsAutopilotDeviceIdentities/import`` with
  ``{"importedWindowsAutopilotDeviceIdentities": [...]}`` answers 200 and ``{"value": [...]}``
  (microsoft-graph-docs-contrib: api-reference/beta/api/intune-enrollment-importedwindowsautopilotdeviceidentity-import.md).
  Each record carries ``serialNumber``, ``hardwareIdentifier`` (base64), ``productKey``, ``groupTag``,
  ``assignedUserPrincipalName`` and ``importId`` (sent, but not relied on: a real answer showed it equal to
  the record id, NOT-DOCS MSEndpointMgr/Intune issue #71; records are tracked by id); its ``state.deviceImportStatus``
  is ``unknown``/``pending``/``partial``/``complete``/``error`` with ``deviceErrorCode`` and
  ``deviceErrorName`` (resources/intune-enrollment-importedwindowsautopilotdeviceidentitystate.md).
  The records are temporary: the caller deletes them (DELETE .../{id}, 204).
* Registered devices: ``GET /deviceManagement/windowsAutopilotDeviceIdentities`` (beta carries
  ``deploymentProfileAssignmentStatus``; v1.0 does not), actions ``updateDeviceProperties``
  (``groupTag``, ``displayName``, ...), ``assignUserToDevice`` (``userPrincipalName``,
  ``addressableUserName``), ``unassignUserFromDevice``, DELETE; all 204.
* ``$filter=serialNumber eq '...'`` is answered 400, ``contains(serialNumber,'...')`` works, and a
  hyphenated serial in ``contains`` was also seen answered 400 (NOT-DOCS: microsoft-graph-docs
  issue #9357, microsoft-graph-docs-contrib issue #3693, msgraph-sdk-powershell issues #1260/#2464).
  Hence :data:`FILTER_THRESHOLD` and :func:`filterable_serial`. The list page
  (api-reference/beta/api/intune-enrollment-windowsautopilotdeviceidentity-list.md) documents no query
  parameter at all, so a 400 to the filtered read falls back to the full list (:func:`devices_by_serial`).
* ``POST /deviceManagement/windowsAutopilotSettings/sync``: 204; 409 while a sync runs; 429 within
  10 minutes of the previous one (api-reference/beta/api/intune-enrollment-windowsautopilotsettings-sync.md).
  ``GET /deviceManagement/windowsAutopilotSettings`` returns ``lastSyncDateTime``, ``lastManualSyncTriggerDateTime``
  and ``syncStatus`` (``unknown``/``inProgress``/``completed``/``failed``: resources/intune-enrollment-windowsautopilotsettings.md,
  intune-enrollment-windowsautopilotsyncstatus.md; the get page's example wraps the object in ``value``, so both shapes
  are read). When the module's own sync was refused and the devices are not listed, it sends the sync again once the
  rule allows it (:meth:`DeviceSync.retry_sync`).
* Intune enrollment throttling: 100 writes and 1,000 requests per 20 s per app and tenant
  (includes/throttling-intune-enrollment.md); ``$batch`` takes at most 20 requests, each throttled
  on its own (concepts/json-batching.md).
* Intune list pages: the page size is undocumented; Microsoft's Intune samples maintainer reported a
  default of 1,000 items per page (NOT-DOCS: microsoftgraph/powershell-intune-samples issue #2). No
  ``$top`` is sent: Graph's concepts/query-parameters.md says ``$top`` "sets the page size of results", but some
  APIs treat it as a cap on the whole result and the Intune pages say nothing about it, so asking for it could
  cut a large tenant's list short or gain nothing. Lists follow ``@odata.nextLink`` with the service's page size.
* CSV: the portal's columns are ``Device Serial Number,Windows Product ID,Hardware Hash[,Group
  Tag][,Assigned User]``, at most 500 rows (MicrosoftDocs/memdocs: autopilot/add-devices.md).
  Get-WindowsAutopilotInfo writes the file with ``Out-File`` and no ``-Encoding``, which in Windows
  PowerShell 5.1 is UTF-16 LE with a byte-order mark, so that encoding is read as well.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import calendar
import codecs
import csv
import io
import re
import time
import uuid

from urllib.parse import quote

from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_permissions import error_hint

# Up to this many requested serials are looked up one by one with $filter=contains(...); above it
# (or when a serial cannot be put in a contains() filter) the whole device list is read in pages.
# Ten filtered GETs cost the same as reading a 10,000-device tenant at 1,000 per page, and a
# one-device task then needs one small read instead of a full list.
FILTER_THRESHOLD = 10

# A decoded hardware hash shorter or longer than this is refused before any call. Real 4K hashes
# decode to roughly 3-4 KB; the bounds only catch truncated cells and pasted garbage.
HASH_MIN_BYTES = 16
HASH_MAX_BYTES = 65536

# Writes are sent at most WRITE_PACE[0] per WRITE_PACE[1] seconds: Intune allows 100 writes per 20 s per app
# and 200 per tenant, and every inner request of a $batch counts. Staying under it costs little time (the
# limit would hold the writes back anyway), leaves room for other apps, and saves the $batch requests that
# inner 429 answers would have to repeat (measured with 1,000 devices: 79 $batch requests unpaced, 50 paced).
WRITE_PACE = (80, 20.0)  # a multiple of the 20 requests a $batch takes

IMPORT_TERMINAL = ("complete", "error")
ASSIGNED_PREFIX = "assigned"

DEVICES_PATH = "/deviceManagement/windowsAutopilotDeviceIdentities"
IMPORTS_PATH = "/deviceManagement/importedWindowsAutopilotDeviceIdentities"
SYNC_PATH = "/deviceManagement/windowsAutopilotSettings/sync"
SETTINGS_PATH = "/deviceManagement/windowsAutopilotSettings"
# "If this sync action is called within 10 minutes of the previous sync, the action returns a 429" (sync page).
SYNC_INTERVAL = 600.0

DEVICE_SELECT = ",".join((
    "id", "serialNumber", "groupTag", "displayName", "userPrincipalName", "addressableUserName",
    "deploymentProfileAssignmentStatus", "deploymentProfileAssignmentDetailedStatus",
    "deploymentProfileAssignedDateTime", "enrollmentState", "manufacturer", "model",
    "productKey", "purchaseOrderIdentifier", "azureAdDeviceId", "managedDeviceId",
))

# Plain explanations of the import errors Microsoft documents (graph-api.md section 4.3:
# SupportArticles-docs import-windows-autopilot-device-csv-files-errors.md, memdocs autopilot/add-devices.md).
ERROR_EXPLANATIONS = {
    "ZtdDeviceAlreadyAssigned": (
        "The hardware hash is already registered to this tenant (error 806), possibly under another "
        "serial number or through a Microsoft Store for Business record; the existing registration is kept."),
    "ZtdDeviceAssignedToOtherTenant": (
        "The hardware hash is registered to another tenant (error 808). That tenant, or the reseller "
        "who registered it, must deregister the device before it can be imported here."),
    "ZtdDeviceDuplicated": (
        "The same hardware hash appeared more than once in one upload; only one of the records was processed."),
    "InvalidZtdHardwareHash": (
        "The service rejected the hardware hash as invalid or incomplete (the hash must contain the "
        "manufacturer and serial number); capture it again with Get-WindowsAutopilotInfo."),
    "StorageError": "A transient service storage error; run the task again later.",
}
ERROR_EXPLANATIONS["ZtdDeviceAssignedToAnotherTenant"] = ERROR_EXPLANATIONS["ZtdDeviceAssignedToOtherTenant"]
ERROR_CODE_NAMES = {806: "ZtdDeviceAlreadyAssigned", 808: "ZtdDeviceAssignedToOtherTenant"}

# CSV header -> option name. Headers are compared without case, spaces, underscores and dashes.
CSV_COLUMNS = {
    "deviceserialnumber": "serial_number",
    "serialnumber": "serial_number",
    "windowsproductid": "product_key",
    "productkey": "product_key",
    "hardwarehash": "hardware_identifier",
    "hardwareidentifier": "hardware_identifier",
    "grouptag": "group_tag",
    "orderid": "group_tag",
    "assigneduser": "assigned_user",
}

DEVICE_KEYS = ("serial_number", "hardware_identifier", "product_key", "group_tag", "assigned_user",
               "addressable_user_name", "display_name", "state")

GRAPH_DATE_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)?$")
UPN_RE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
FILTERABLE_RE = re.compile(r"^[A-Za-z0-9]+$")


class InputError(Exception):
    """Bad input, found before any call that writes. ``problems`` lists every finding."""

    def __init__(self, problems, rows=None):
        self.problems = list(problems)
        self.rows = rows or []
        super(InputError, self).__init__("; ".join(self.problems))


def serial_key(serial):
    """Serial numbers are matched without regard to case or surrounding spaces."""
    return (serial or "").strip().upper()


def check_hash(value, where):
    """Return the hash as canonical base64 (whitespace removed), or raise :class:`InputError`."""
    text = re.sub(r"\s+", "", value or "")
    if not text:
        raise InputError(["%s: the hardware hash is empty" % where])
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        bad = re.search(r"[^A-Za-z0-9+/=]", text)
        detail = ("character %r at position %d (whitespace not counted)" % (bad.group(), bad.start() + 1) if bad
                  else "its length or padding is wrong (%d characters)" % len(text))
        raise InputError(["%s: the hardware hash is not valid base64: %s" % (where, detail)])
    if not HASH_MIN_BYTES <= len(raw) <= HASH_MAX_BYTES:
        raise InputError(["%s: the hardware hash decodes to %d bytes; a hardware hash is between %d and %d bytes"
                          % (where, len(raw), HASH_MIN_BYTES, HASH_MAX_BYTES)])
    return text


def graph_time(value):
    """Seconds since the epoch of a Graph DateTimeOffset (``2026-03-01T10:00:00.1234567Z``), or None.

    Intune answers ``0001-01-01T00:00:00Z`` for "never"; that, and anything before 1971, is None too.
    """
    found = GRAPH_DATE_RE.match(value.strip()) if isinstance(value, str) else None
    if not found:
        return None
    parts = [int(x) for x in found.groups()[:6]]
    if parts[0] < 1971:
        return None
    seconds = calendar.timegm(tuple(parts))
    zone = found.group(7)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return float(seconds)


def check_upn(value, where):
    if value and not UPN_RE.match(value):
        raise InputError(["%s: assigned_user %r is not a user principal name (name@domain.tld)" % (where, value)])
    return value


def filterable_serial(serial):
    """Can this serial go into ``contains(serialNumber,'...')`` safely (letters and digits only)?"""
    return bool(FILTERABLE_RE.match(serial or ""))


def decode_csv_bytes(data):
    """Text of a CSV file: UTF-16 with a byte-order mark, UTF-8 with or without one, else Windows-1252."""
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def _header_key(name):
    return re.sub(r"[\s_\-]+", "", (name or "").strip().strip('"').lower())


def parse_csv(data, source="csv"):
    """Parse an Autopilot hardware-hash CSV (bytes or text).

    Returns ``(rows, warnings)``; each row is a dict with the option names of :data:`DEVICE_KEYS`
    that the file sets (empty cells are left out) and ``where`` (``"<source> line N"``). Raises
    :class:`InputError` listing every bad line: missing columns, a row without serial or hash, a
    hash that is not base64, an assigned user that is not a UPN.
    """
    text = decode_csv_bytes(data) if isinstance(data, bytes) else data
    if text.startswith(u"\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text), skipinitialspace=True)
    header = None
    header_line = 0
    for fields in reader:
        if any(f.strip() for f in fields):
            header = fields
            header_line = reader.line_num
            break
    if header is None:
        raise InputError(["%s: the file is empty; expected the header 'Device Serial Number,Windows Product ID,Hardware Hash'" % source])
    columns = []
    unknown = []
    for name in header:
        option = CSV_COLUMNS.get(_header_key(name))
        columns.append(option)
        if option is None and name.strip():
            unknown.append(name.strip())
    missing = [label for label, option in (("Device Serial Number", "serial_number"), ("Hardware Hash", "hardware_identifier"))
               if option not in columns]
    if missing:
        raise InputError(["%s line %d: the header lacks the column(s) %s (found %s); the expected header is "
                          "'Device Serial Number,Windows Product ID,Hardware Hash[,Group Tag][,Assigned User]'"
                          % (source, header_line, ", ".join(repr(m) for m in missing), ", ".join(repr(h) for h in header))])
    warnings = []
    if unknown:
        warnings.append("%s: ignored the column(s) %s" % (source, ", ".join(repr(u) for u in unknown)))
    rows = []
    problems = []
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        where = "%s line %d" % (source, line)
        row = {"where": where}
        for option, value in zip(columns, fields):
            if option and value.strip():
                row[option] = value.strip()
        if len(fields) > len(columns) and any(f.strip() for f in fields[len(columns):]):
            problems.append("%s: %d fields but the header has %d columns" % (where, len(fields), len(columns)))
            continue
        if not row.get("serial_number"):
            problems.append("%s: the Device Serial Number is empty" % where)
            continue
        if not row.get("hardware_identifier"):
            problems.append("%s: serial %r has no Hardware Hash" % (where, row["serial_number"]))
            continue
        try:
            row["hardware_identifier"] = check_hash(row["hardware_identifier"], "%s (serial %r)" % (where, row["serial_number"]))
            check_upn(row.get("assigned_user"), "%s (serial %r)" % (where, row["serial_number"]))
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        rows.append(row)
    if problems:
        raise InputError(problems, rows)  # the good rows too, so duplicates among them are reported as well
    return rows, warnings


def _spec_from_dict(item, where, defaults):
    spec = {"where": where}
    for key in DEVICE_KEYS:
        if item.get(key) is not None:
            spec[key] = item[key].strip() if isinstance(item[key], str) and key != "hardware_identifier" else item[key]
    if spec.get("group_tag") is None and defaults.get("group_tag") is not None:
        spec["group_tag"] = defaults["group_tag"]
    spec.setdefault("state", defaults.get("state") or "present")
    return spec


def collect_specs(params, csv_rows=None):
    """Merge the single-device options, ``devices`` and CSV rows into one list of device specs.

    ``params`` are the module parameters. The top-level ``group_tag`` is the group tag of the single
    device, and the default for list and CSV devices that set none. A serial given twice with the
    same settings is used once; given twice with different settings it is an error naming both places.
    Raises :class:`InputError` with every problem found.
    """
    defaults = {"group_tag": params.get("group_tag"), "state": params.get("state")}
    raw = []
    if params.get("serial_number") is not None:
        single = dict((k, params.get(k)) for k in DEVICE_KEYS)
        raw.append((single, "serial_number %r" % params["serial_number"]))
    for index, item in enumerate(params.get("devices") or []):
        raw.append((item, "devices[%d]" % index))
    for row in csv_rows or []:
        raw.append((row, row["where"]))

    problems = []
    specs = []
    by_key = {}
    hashes = {}
    for item, where in raw:
        spec = _spec_from_dict(item, where, defaults)
        serial = spec.get("serial_number")
        if not serial:
            problems.append("%s: the serial number is empty" % where)
            continue
        label = "%s (serial %r)" % (where, serial)
        try:
            if spec.get("hardware_identifier") is not None:
                spec["hardware_identifier"] = check_hash(spec["hardware_identifier"], label)
            check_upn(spec.get("assigned_user"), label)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if spec.get("addressable_user_name") and not spec.get("assigned_user"):
            problems.append("%s: addressable_user_name needs assigned_user" % label)
            continue
        key = serial_key(serial)
        previous = by_key.get(key)
        if previous is not None:
            mine = dict((k, v) for k, v in spec.items() if k != "where")
            theirs = dict((k, v) for k, v in previous.items() if k != "where")
            if mine != theirs:
                differ = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k) and k != "serial_number")
                problems.append("serial %r is given twice with different %s: %s and %s"
                                % (serial, " and ".join(_label(k) for k in differ), previous["where"], where))
            continue
        hwid = spec.get("hardware_identifier")
        if hwid and hwid in hashes and spec["state"] == "present":
            problems.append("%s: the hardware hash is identical to that of %s; Intune would reject one as ZtdDeviceDuplicated"
                            % (label, hashes[hwid]))
            continue
        if hwid:
            hashes[hwid] = label
        by_key[key] = spec
        specs.append(spec)
    if problems:
        raise InputError(problems)
    return specs


def _label(key):
    return {"hardware_identifier": "hardware hashes"}.get(key, key)


def index_devices(devices):
    """``serial key -> [device, ...]`` for registered devices (a serial can, rarely, repeat)."""
    index = {}
    for device in devices:
        index.setdefault(serial_key(device.get("serialNumber")), []).append(device)
    return index


def managed_view(device):
    """The managed settings of a registered device, in option names (for diff and comparison)."""
    return {
        "group_tag": device.get("groupTag") or "",
        "display_name": device.get("displayName") or "",
        "assigned_user": device.get("userPrincipalName") or "",
        "addressable_user_name": device.get("addressableUserName") or "",
    }


def spec_view(spec):
    """The managed settings a spec asks for (for a new device: what it will have after import)."""
    view = {}
    for key in ("group_tag", "display_name", "assigned_user", "addressable_user_name"):
        if spec.get(key) is not None:
            view[key] = spec[key]
    return view


def device_changes(spec, device):
    """What differs between the spec and a registered device: ``{option: {"before", "after"}}``.

    Only settings the spec sets are compared. ``assigned_user: ''`` asks for no user. UPNs compare
    without case. ``addressable_user_name`` is compared only together with a user.
    """
    current = managed_view(device)
    changes = {}
    for key in ("group_tag", "display_name"):
        if spec.get(key) is not None and spec[key] != current[key]:
            changes[key] = {"before": current[key], "after": spec[key]}
    user = spec.get("assigned_user")
    if user is not None:
        if user.lower() != current["assigned_user"].lower():
            changes["assigned_user"] = {"before": current["assigned_user"], "after": user}
        name = spec.get("addressable_user_name")
        if user and name is not None and name != current["addressable_user_name"]:
            changes["addressable_user_name"] = {"before": current["addressable_user_name"], "after": name}
    return changes


def update_requests(device_id, spec, changes):
    """The Graph action calls that apply ``changes`` to one registered device, as $batch items.

    Group tag and display name go through one ``updateDeviceProperties``; the user through
    ``assignUserToDevice`` (with the friendly name) or ``unassignUserFromDevice``. Each sets values, so sending it
    twice changes nothing more: ``repeatable`` lets the client send it again after a lost answer.
    """
    base = "%s/%s" % (DEVICES_PATH, device_id)
    calls = []
    props = {}
    if "group_tag" in changes:
        props["groupTag"] = spec["group_tag"]
    if "display_name" in changes:
        props["displayName"] = spec["display_name"]
    if props:
        calls.append({"method": "POST", "url": base + "/updateDeviceProperties", "body": props, "repeatable": True})
    if "assigned_user" in changes or "addressable_user_name" in changes:
        if spec["assigned_user"]:
            # Both parameters are "Not yet documented" (assignusertodevice.md). Without a friendly name the user's
            # displayName is sent, as the portal fills its "User friendly name" field, rather than an empty string
            # whose effect is unknown (see resolve_users).
            name = spec.get("addressable_user_name")
            body = {"userPrincipalName": spec["assigned_user"],
                    "addressableUserName": name if name is not None else spec.get("user_display_name") or ""}
            calls.append({"method": "POST", "url": base + "/assignUserToDevice", "body": body, "repeatable": True})
        else:
            calls.append({"method": "POST", "url": base + "/unassignUserFromDevice", "repeatable": True})
    return calls


def plan_devices(specs, index, check_mode=False):
    """One plan entry per spec: ``{"spec", "action", "changes", "device"}``.

    Actions: ``import`` (present, not registered), ``update`` (registered, settings differ),
    ``unchanged``, ``delete`` (absent, registered: every registration of that serial),
    ``absent`` (absent, not registered), ``failed`` (cannot be planned; ``error_message`` says why).

    With ``check_mode`` true (check mode with ``check_mode_missing: warn``) a serial that is not
    registered and has no hash to import is planned as an ``update`` of a device an earlier task
    imports (``assumed``), the way the resolver treats names of groups an earlier task creates: a
    whole role can be checked against an empty tenant. Otherwise it fails, as in a real run.
    """
    plan = []
    for spec in specs:
        found = index.get(serial_key(spec["serial_number"]), [])
        entry = {"spec": spec, "changes": {}, "device": found[0] if found else None, "devices": found}
        if spec["state"] == "absent":
            entry["action"] = "delete" if found else "absent"
        elif not found:
            if not spec.get("hardware_identifier") and check_mode:
                entry["action"] = "update"
                entry["assumed"] = True
                entry["device"] = {}
                entry["changes"] = device_changes(spec, {})
            elif not spec.get("hardware_identifier"):
                entry["action"] = "failed"
                entry["missing"] = True
                entry["error_message"] = ("%s: serial %r is not registered and no hardware_identifier is given to import it"
                                          % (spec["where"], spec["serial_number"]))
            else:
                entry["action"] = "import"
        elif len(found) > 1:
            entry["action"] = "failed"
            entry["error_message"] = ("serial %r is registered %d times (ids %s); update them one by one in the portal"
                                      % (spec["serial_number"], len(found), ", ".join(d.get("id", "?") for d in found)))
        else:
            entry["changes"] = device_changes(spec, found[0])
            entry["action"] = "update" if entry["changes"] else "unchanged"
        plan.append(entry)
    return plan


def import_record(spec, import_id):
    """The body item for one device in ``importedWindowsAutopilotDeviceIdentities/import``."""
    record = {
        "serialNumber": spec["serial_number"],
        "hardwareIdentifier": spec["hardware_identifier"],
        "importId": import_id,
    }
    if spec.get("product_key"):
        record["productKey"] = spec["product_key"]
    if spec.get("group_tag"):
        record["groupTag"] = spec["group_tag"]
    if spec.get("assigned_user"):
        record["assignedUserPrincipalName"] = spec["assigned_user"]
    return record


def chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def explain_error(code, name):
    """``(code, name, message)`` with a plain explanation for the documented import errors."""
    if not name and code in ERROR_CODE_NAMES:
        name = ERROR_CODE_NAMES[code]
    message = ERROR_EXPLANATIONS.get(name or "")
    if message is None:
        message = "The import failed with %s%s." % (name or "an unnamed error", " (code %s)" % code if code else "")
    return code, name, message


def import_status(record):
    return ((record or {}).get("state") or {}).get("deviceImportStatus") or "unknown"


def count_by(values):
    counts = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def predicted_device(spec):
    """What a device to be imported will look like (check mode): no invented id."""
    device = {"serialNumber": spec["serial_number"], "groupTag": spec.get("group_tag") or ""}
    if spec.get("assigned_user"):
        device["userPrincipalName"] = spec["assigned_user"]
    if spec.get("display_name"):
        device["displayName"] = spec["display_name"]
    return device


def imported_view(spec):
    """What an imported device carries before any follow-up call: the import sets the group tag and the user."""
    return {"serialNumber": spec["serial_number"], "groupTag": spec.get("group_tag") or "",
            "userPrincipalName": spec.get("assigned_user") or ""}


def build_diff(plan):
    """``{"before", "after"}`` keyed by serial, limited to managed settings, for devices that change."""
    before = {}
    after = {}
    for entry in plan:
        serial = entry["spec"]["serial_number"]
        action = entry["action"]
        if action in ("import", "imported"):
            after[serial] = spec_view(entry["spec"])
        elif action in ("update", "updated"):
            current = managed_view(entry["device"])
            before[serial] = dict((k, current[k]) for k in entry["changes"])
            after[serial] = dict((k, v["after"]) for k, v in entry["changes"].items())
        elif action in ("delete", "deleted"):
            before[serial] = managed_view(entry["device"])
    return {"before": {"devices": before}, "after": {"devices": after}}


def devices_by_serial(client, serials, params=None):
    """Registered devices whose serial contains one of ``serials``, one filtered GET per serial; None when refused.

    ``$filter=contains(serialNumber,'...')`` rests on field reports only (see the module docstring): when the
    service answers 400 the caller reads the whole list instead and matches serial numbers itself.
    """
    found = {}
    try:
        for serial in serials:
            query = dict(params or {}, **{"$filter": "contains(serialNumber,'%s')" % serial.strip()})
            for device in client.list(DEVICES_PATH, params=query):
                found.setdefault(device.get("id"), device)
    except GraphError as exc:
        if exc.status != 400:
            raise
        return None
    return list(found.values())


FILTER_REFUSED = ("Intune refused $filter=contains(serialNumber,...) on windowsAutopilotDeviceIdentities (400); "
                  "the whole device list was read instead")


class WaitTimeout(Exception):
    def __init__(self, message, waiting):
        super(WaitTimeout, self).__init__(message)
        self.waiting = waiting


class DeviceSync(object):
    """Reads the tenant, applies a plan and builds the result. ``module`` is a GraphModule.

    ``clock``/``sleep`` are injectable so unit tests need not wait.
    """

    def __init__(self, module, params, clock=time.time, sleep=time.sleep):
        self.module = module
        self.client = module.client
        self.params = params
        self.clock = clock
        self.sleep = sleep
        self.import_id = str(uuid.uuid4())
        self.progress = []
        self.warnings = []
        self.deadline = None
        self.imports_before = set()  # ids of the import records listed before this run imported (open_imports)
        self.filter_ok = True
        self.window_start = None
        self.window_writes = 0
        self.writes_sent = 0
        self.sync_answers = []  # (seconds since the start, status, error code) of each sync sent: 204, 409 or 429
        self.sync_next = None  # after a refusal: when the module's own measure (or a Retry-After) allows a sync
        self.sync_hinted = False  # sync_next came from a Retry-After
        self.sync_wait_until = None  # no settings read and no sync before this time
        self.sync_dates = True  # False once the settings' dates allowed a sync that the service refused (409 or 429)

    # -- reads -------------------------------------------------------------------------------

    def list_devices(self):
        return self.client.list(DEVICES_PATH, params={"$select": DEVICE_SELECT})

    def read_devices(self, serials):
        """Registered devices for ``serials``: filtered GETs for a few, one paged list for many (or once a filter was refused).

        The result may hold other devices too (``contains`` matches parts of serials, the list holds all): callers
        look their serials up in :func:`index_devices`.
        """
        if self.filter_ok and serials and len(serials) <= FILTER_THRESHOLD and all(filterable_serial(s.strip()) for s in serials):
            found = devices_by_serial(self.client, serials, {"$select": DEVICE_SELECT})
            if found is not None:
                return found
            self.filter_ok = False
            self.warnings.append(FILTER_REFUSED)
        return self.list_devices()

    def list_imports(self, ids):
        """The import records with ``ids``: those the import answers returned, and those the run adopted.

        Records are matched by id, never by ``importId``: a real create answer was seen with ``importId`` (and
        ``productKey``) equal to the record id (NOT-DOCS: MSEndpointMgr/Intune issue #71), so the service may not
        keep the caller's value, and the resource page documents nothing more than "The Import Id".
        """
        return [r for r in self.client.list(IMPORTS_PATH) if r.get("id") in ids]

    def open_imports(self, entries):
        """Import records of an earlier run for serials this run would import (not registered, or not listed yet):
        ``serial key -> record``, those still under way and those ``complete``.

        They come from an earlier run that stopped waiting (``wait_timeout``, or ``wait: false``) or from another
        tool. Importing those serials again would end in 806 ZtdDeviceAlreadyAssigned, because the device is (or
        is about to be) registered, only not listed until a sync has run; so the run adopts them: it waits for
        them, syncs, waits until the devices are listed and cleans the records up as its own. A record that ended
        in error is not adopted (the serial is imported again). The ids of every record listed here are kept
        (:attr:`imports_before`): a record that appears later with one of this run's serials is this run's (see
        :meth:`_probe`).
        """
        keys = set(serial_key(e["spec"]["serial_number"]) for e in entries)
        listed = self.client.list(IMPORTS_PATH)
        self.imports_before = set(r.get("id") for r in listed)
        adopted = {}
        for record in listed:
            key = serial_key(record.get("serialNumber"))
            if key in keys and import_status(record) != "error":
                if key not in adopted or import_status(record) == "complete":
                    adopted[key] = record
        return adopted

    def resolve_users(self, specs):
        """Canonical UPN and display name (``user_display_name``) of each assigned user; unknown users are an :class:`InputError`."""
        wanted = {}
        for spec in specs:
            if spec.get("assigned_user") and spec["state"] == "present":
                wanted.setdefault(spec["assigned_user"].lower(), []).append(spec)
        if not wanted:
            return
        names = sorted(wanted)
        requests = [{"method": "GET", "url": "/users/%s?$select=id,userPrincipalName,displayName" % _quote(wanted[n][0]["assigned_user"])}
                    for n in names]
        answers = self.client.batch(requests, api="v1.0")
        problems = []
        for name, answer in zip(names, answers):
            status = answer.get("status")
            if status == 200:
                user = answer.get("body") or {}
                upn = user.get("userPrincipalName") or wanted[name][0]["assigned_user"]
                for spec in wanted[name]:
                    spec["assigned_user"] = upn
                    spec["user_display_name"] = user.get("displayName") or ""
            elif status == 404:
                problems.append("assigned_user %r (%s) does not exist in Microsoft Entra ID"
                                % (wanted[name][0]["assigned_user"], ", ".join(s["where"] for s in wanted[name][:3])))
            else:
                body = answer.get("body") or {}
                error = body.get("error") or {}
                problems.append("Failed to read user %r: %s %s: %s" % (wanted[name][0]["assigned_user"], status,
                                                                       error.get("code"), error.get("message")))
        if problems:
            raise InputError(problems)

    # -- writes ------------------------------------------------------------------------------

    def run_batch(self, calls):
        """Run action calls through $batch, paced by :data:`WRITE_PACE`; returns the answers in call order."""
        answers = []
        for group in chunks(calls, WRITE_PACE[0]):
            self.pace(sum(1 for c in group if c["method"] != "GET"))
            answers.extend(self.client.batch(group))
        return answers

    def pace(self, writes):
        """Account for ``writes`` about to be sent; first wait for a new window when they would exceed the pace."""
        size, window = WRITE_PACE
        if self.window_start is not None and self.window_writes + writes > size:
            wait = self.window_start + window - self.clock()
            if wait > 0:
                self.sleep(wait)
            self.window_start = None
        if self.window_start is None:
            self.window_start, self.window_writes = self.clock(), 0
        self.window_writes += writes
        self.writes_sent += writes

    def import_devices(self, entries):
        """POST the import action in batches; returns ``serial key -> import record``."""
        records = {}
        size = self.params.get("batch_size") or 100
        for batch in chunks(entries, size):
            body = {"importedWindowsAutopilotDeviceIdentities": [import_record(e["spec"], self.import_id) for e in batch]}
            keys = set(serial_key(e["spec"]["serial_number"]) for e in batch)

            self.pace(1)
            answer = self.client.post(IMPORTS_PATH + "/import", json=body, probe=self._probe(keys)) or {}
            for record in answer.get("value") or []:
                records[serial_key(record.get("serialNumber"))] = record
            missing = [e for e in batch if serial_key(e["spec"]["serial_number"]) not in records]
            if missing and len(missing) < len(batch):
                # Part of the batch was recorded before the connection dropped: send the rest once.
                retry = {"importedWindowsAutopilotDeviceIdentities": [import_record(e["spec"], self.import_id) for e in missing]}
                for record in (self.client.post(IMPORTS_PATH + "/import", json=retry) or {}).get("value") or []:
                    records[serial_key(record.get("serialNumber"))] = record
        return records

    def _probe(self, keys):
        """After a 5xx or a dropped connection: did the service take the batch anyway?

        The batch's records are those with one of its serials (``keys``) that were not listed before the import
        (:meth:`open_imports`); ``importId`` is not used, as the service may overwrite it (see :meth:`list_imports`).
        """
        def probe():
            mine = [r for r in self.client.list(IMPORTS_PATH)
                    if serial_key(r.get("serialNumber")) in keys and r.get("id") not in self.imports_before]
            return {"value": mine} if mine else None
        return probe

    def remaining(self):
        return self.deadline - self.clock()

    def note_progress(self, phase, counts):
        elapsed = int(round(self.clock() - self.started))
        self.progress.append({"phase": phase, "elapsed": elapsed, "counts": counts})
        self.module.log("autopilot_device: %s after %ds: %s" % (phase, elapsed, ", ".join(
            "%s=%d" % (k, v) for k, v in sorted(counts.items()))))

    def poll_imports(self, records):
        """Re-read our import records until each is complete or error, or the wait times out."""
        interval = self.params.get("poll_interval") or 10
        while True:
            pending = [r for r in records.values() if import_status(r) not in IMPORT_TERMINAL]
            if not pending:
                return records
            if self.remaining() <= 0:
                raise WaitTimeout("import", dict((r.get("serialNumber"), import_status(r)) for r in pending))
            self.sleep(max(0.0, min(interval, self.remaining())))
            for record in self.list_imports(ids=set(r.get("id") for r in records.values())):
                key = serial_key(record.get("serialNumber"))
                if key in records:
                    records[key] = record
            self.note_progress("import", count_by(import_status(r) for r in records.values()))

    def cleanup_imports(self, records, listed=None):
        """Delete this run's terminal import records (and only those).

        With ``listed`` (the serial keys Intune lists now), a ``complete`` record is deleted only when its device is
        listed: the record of a device imported but not listed yet is the next run's evidence that the device was
        imported, so that it waits for it instead of importing it again (ending in 806).
        """
        done = [r for r in records.values() if r.get("id") and (
            import_status(r) == "error" or (import_status(r) == "complete" and (
                listed is None or serial_key(r.get("serialNumber")) in listed)))]
        answers = self.run_batch([{"method": "DELETE", "url": "%s/%s" % (IMPORTS_PATH, r["id"])} for r in done])
        failed = [r.get("serialNumber") for r, a in zip(done, answers) if a.get("status") not in (200, 204, 404)]
        if failed:
            self.warnings.append("Could not delete the import records of %s; delete them in the Intune portal" % ", ".join(failed))

    def trigger_sync(self):
        """One Autopilot sync. 409 (running) and 429 (10-minute rule) are not failures: they are recorded, the wait
        for the devices may send the sync again (:meth:`retry_sync`), and :meth:`sync_warning` summarises them.

        The 429 is a rule of the action, not throttling: "If this sync action is called within 10 minutes of the
        previous sync, the action returns a 429 Too Many Requests response code"
        (api-reference/beta/api/intune-enrollment-windowsautopilotsettings-sync.md, which mentions no Retry-After).
        A retry within the client's budget cannot succeed, so the first 429 is taken as the answer (``retry_429``).
        """
        self.pace(1)
        now = self.clock()
        elapsed = int(round(now - self.started))
        try:
            # A second sync cannot do harm (Intune answers 409 or 429), so it may be sent again after a 5xx or a
            # dropped connection.
            self.client.post(SYNC_PATH, probe=lambda: None, retry_429=False)
        except Exception as exc:  # GraphError
            status = getattr(exc, "status", None)
            if status not in (409, 429):
                raise
            self.sync_answers.append((elapsed, status, getattr(exc, "code", "") or ""))
            self.writes_sent -= 1  # refused: it changed nothing (``changed`` counts what this run changed)
            # The sync that made Intune refuse started at or before now, so 10 minutes from now the rule allows one:
            # the module's own measure. A Retry-After (none is documented) is the service's own figure.
            after = getattr(exc, "retry_after", None)
            self.sync_hinted = after is not None
            self.sync_next = now + (after if after is not None else SYNC_INTERVAL)
            self.sync_wait_until = self.sync_next if self.sync_hinted else None
            return False
        self.sync_answers.append((elapsed, 204, ""))
        return True

    def sync_refused(self):
        """True when this run sent the sync and Intune refused every attempt."""
        return bool(self.sync_answers) and all(status != 204 for _e, status, _c in self.sync_answers)

    def read_sync_settings(self):
        """``(syncStatus, lastManualSyncTriggerDateTime in seconds or None)``, or None when they cannot be read."""
        try:
            body = self.client.get(SETTINGS_PATH) or {}
        except GraphError:  # the retry then goes by the module's own measure
            return None
        if isinstance(body.get("value"), dict):  # the get page's example wraps the object in "value"
            body = body["value"]
        return body.get("syncStatus"), graph_time(body.get("lastManualSyncTriggerDateTime"))

    def retry_sync(self):
        """Send the refused sync again when Intune can accept it; called on each poll while devices are not listed.

        Intune refuses a sync while one runs (409) and within 10 minutes of the previous one (429). The settings tell
        whether one runs (``syncStatus``) and when the last was triggered (``lastManualSyncTriggerDateTime``), so the
        sync is sent when none runs and 10 minutes have passed since that date, which is sooner than 10 minutes after
        this run's refused attempt. The settings are read once after a refusal and again when that time comes (each
        poll while a sync runs): a sync triggered meanwhile by another run moves the time on, and as it started
        after this run's import completed it may list the devices without another. Without the dates, or once they
        allowed a sync that was then refused (clocks apart), the module's own measure applies: 10 minutes after its
        last refused attempt; a Retry-After on the refusal (none is documented) is followed as the service's figure.
        So no more than one sync per 10 minutes by the service's rule, and none once the devices are listed.
        Returns True when a sync was sent (accepted or not).
        """
        if not self.sync_refused():
            return False
        now = self.clock()
        if self.sync_wait_until is not None and now < self.sync_wait_until:
            return False
        if self.sync_dates and not self.sync_hinted:
            settings = self.read_sync_settings()
            status, last = settings if settings is not None else (None, None)
            if status == "inProgress":
                self.sync_wait_until = None  # that sync may list the devices; look again at the next poll
                return False
            if last is not None and now < last + SYNC_INTERVAL:
                self.sync_wait_until = last + SYNC_INTERVAL
                return False
            dated = last is not None
        else:
            dated = False
        if not dated and now < self.sync_next:
            self.sync_wait_until = self.sync_next
            return False
        if not self.trigger_sync() and dated:
            # The dates said a sync could start (no sync running, 10 minutes passed) and Intune refused it (409 or 429):
            # the dates are not to be trusted, so from now on the module's own measure (10 minutes) decides.
            self.sync_dates = False
        self.note_progress("sync", dict((str(k), v) for k, v in count_by(s for _e, s, _c in self.sync_answers).items()))
        return True

    def sync_warning(self):
        """One warning for the run when none of its sync attempts was accepted; none when one was."""
        if not self.sync_refused():
            return
        elapsed, status, code = self.sync_answers[-1]
        if len(self.sync_answers) > 1:
            counts = count_by(s for _e, s, _c in self.sync_answers)
            self.warnings.append("Autopilot sync not started: Intune refused all %d attempts (%s), the last after %d s "
                                 "(409: a sync was running; 429: within 10 minutes of the previous sync); the devices "
                                 "appear after a later sync." % (len(self.sync_answers), ", ".join(
                                     "%d x %s" % (n, k) for k, n in sorted(counts.items())), elapsed))
        elif status == 409:
            self.warnings.append("Autopilot sync not started: a sync is already running (409 %s); the devices may appear "
                                 "when it ends, or after a later sync." % code)
        else:
            self.warnings.append("Autopilot sync not started: Intune allows one sync every 10 minutes (429 %s); the "
                                 "devices appear after the next sync." % code)

    def poll_listed(self, entries):
        """Read the devices of ``entries`` (imported ones) until each is listed; sets ``entry["device"]``.

        Microsoft's procedure is: import, then Sync, and the devices appear after it (MicrosoftDocs/memdocs
        autopilot/add-devices.md); how long after the import record shows ``complete`` is not documented. The
        follow-up calls (display name, friendly user name) need the registered device, so they wait for it. When this
        run's sync was refused (another run's sync, in parallel, went first), it is sent again when Intune can accept
        it (:meth:`retry_sync`): a service that lists devices only after a sync that started after their import would
        otherwise leave them unlisted until the wait runs out.
        """
        interval = self.params.get("poll_interval") or 10
        polled = False
        while True:
            index = index_devices(self.read_devices([e["spec"]["serial_number"] for e in entries]))
            for entry in entries:
                found = index.get(serial_key(entry["spec"]["serial_number"]))
                if found:
                    entry["device"] = found[0]
            waiting = [e for e in entries if not e.get("device")]
            if polled:
                self.note_progress("listed", {"listed": len(entries) - len(waiting), "not listed": len(waiting)})
            if not waiting:
                return
            if self.remaining() <= 0:
                raise WaitTimeout("listed", dict((e["spec"]["serial_number"], "not listed") for e in waiting))
            if polled:  # one poll interval at least after the sync sent just before this wait
                self.retry_sync()
            self.sleep(max(0.0, min(interval, self.remaining())))
            polled = True

    def poll_profiles(self, entries):
        """Re-read devices until each one's profile assignment status starts with 'assigned'."""
        interval = self.params.get("poll_interval") or 10
        while True:
            waiting = [e for e in entries if not _assigned(e.get("device"))]
            for entry in waiting:
                if (entry.get("device") or {}).get("deploymentProfileAssignmentStatus") == "failed":
                    entry["profile_failed"] = True
            waiting = [e for e in waiting if not e.get("profile_failed")]
            if not waiting:
                return
            if self.remaining() <= 0:
                raise WaitTimeout("profile", dict(
                    (e["spec"]["serial_number"], (e.get("device") or {}).get("deploymentProfileAssignmentStatus") or "not registered")
                    for e in waiting))
            self.sleep(max(0.0, min(interval, self.remaining())))
            index = index_devices(self.read_devices([e["spec"]["serial_number"] for e in entries]))
            for entry in entries:
                found = index.get(serial_key(entry["spec"]["serial_number"]))
                if found:
                    entry["device"] = found[0]
            self.note_progress("profile", count_by((e.get("device") or {}).get("deploymentProfileAssignmentStatus") or "not registered"
                                                   for e in entries))

    # -- the whole run -----------------------------------------------------------------------

    def run(self, specs, check_mode):
        """Plan and (unless ``check_mode``) apply. Returns the module result dict."""
        self.started = self.clock()
        self.deadline = self.started + float(self.params.get("wait_timeout") or 0)
        params = self.params
        self.resolve_users(specs)
        existing = self.read_devices([s["serial_number"] for s in specs])
        plan = plan_devices(specs, index_devices(existing),
                            check_mode=check_mode and params.get("check_mode_missing") == "warn")
        if check_mode:
            for entry in plan:
                if entry.get("missing"):
                    entry["error_message"] += "; check the serial, or, when an earlier task of the play imports it, set check_mode_missing: warn"
        for entry in plan:
            if entry.get("assumed"):
                self.warnings.append("%s: serial %r is not registered yet; check mode assumes an earlier task imports it"
                                     % (entry["spec"]["where"], entry["spec"]["serial_number"]))
        diff = build_diff(plan)
        unplannable = [e["error_message"] for e in plan if e["action"] == "failed"]
        if unplannable and params.get("fail_on_error", True):
            raise InputError(unplannable)
        if check_mode:
            return self.result(plan, diff, predicted=True)

        # Registered devices: one $batch for every action call and delete.
        calls = []
        owners = []
        for entry in plan:
            if entry["action"] == "update":
                for call in update_requests(entry["device"]["id"], entry["spec"], entry["changes"]):
                    calls.append(call)
                    owners.append(entry)
            elif entry["action"] == "delete":
                for device in entry["devices"]:
                    calls.append({"method": "DELETE", "url": "%s/%s" % (DEVICES_PATH, device["id"])})
                    owners.append(entry)
        for entry, call, answer in zip(owners, calls, self.run_batch(calls)):
            if answer.get("status") not in (200, 204) and not (answer.get("status") == 404 and entry["action"] == "delete"):
                _fail_entry(entry, answer, call)
        for entry in plan:
            entry["action"] = {"update": "updated", "delete": "deleted"}.get(entry["action"], entry["action"])

        # New devices: import, wait, clean up, sync, apply what the import cannot carry.
        new = [e for e in plan if e["action"] == "import"]
        timeout = None
        if new:
            adopted = self.open_imports(new)
            if adopted:
                done = sorted(r.get("serialNumber") or "?" for r in adopted.values() if import_status(r) == "complete")
                going = sorted(r.get("serialNumber") or "?" for r in adopted.values() if import_status(r) != "complete")
                how = "waiting for" if params.get("wait") else "leaving it to Intune"
                if going:
                    self.warnings.append("An import was already under way for %d device(s) (%s); %s it instead of importing "
                                         "them again." % (len(going), ", ".join(going), how))
                if done:
                    self.warnings.append("An earlier import of %d device(s) (%s) is complete but Intune does not list them yet; "
                                         "%s them instead of importing them again." % (len(done), ", ".join(done), how))
            records = self.import_devices([e for e in new if serial_key(e["spec"]["serial_number"]) not in adopted])
            records.update(adopted)
            for entry in new:
                entry["record"] = records.get(serial_key(entry["spec"]["serial_number"]))
                if entry["record"] is None:
                    entry["action"] = "failed"
                    entry["error_message"] = "The import action returned no record for this serial."
            if params.get("wait"):
                try:
                    self.poll_imports(records)
                except WaitTimeout as exc:
                    timeout = exc
                for entry in new:
                    entry["record"] = records.get(serial_key(entry["spec"]["serial_number"]), entry.get("record"))
            for entry in new:
                record = entry.get("record")
                if entry["action"] == "failed" or record is None:
                    continue
                status = import_status(record)
                if status == "error":
                    state = record.get("state") or {}
                    entry["action"] = "failed"
                    code, name, message = explain_error(state.get("deviceErrorCode"), state.get("deviceErrorName"))
                    entry.update(error_code=code, error_name=name, error_message=message)
                elif status == "complete" or (not params.get("wait") and serial_key(entry["spec"]["serial_number"]) not in adopted):
                    entry["action"] = "imported"
                else:
                    entry["action"] = "pending"
            imported = [e for e in new if e["action"] == "imported"]
            if imported and params.get("sync"):
                self.trigger_sync()
            if imported and params.get("wait") and timeout is None:
                try:
                    self.poll_listed(imported)
                except WaitTimeout as exc:
                    timeout = exc
                followups = []
                owners = []
                for entry in imported:
                    found = entry.get("device")
                    if not found:
                        continue
                    changes = device_changes(entry["spec"], found)
                    for call in update_requests(found["id"], entry["spec"], changes):
                        followups.append(call)
                        owners.append(entry)
                for entry, call, answer in zip(owners, followups, self.run_batch(followups)):
                    if answer.get("status") not in (200, 204):
                        _fail_entry(entry, answer, call)
                pending_settings = dict((e["spec"]["serial_number"], device_changes(e["spec"], imported_view(e["spec"])))
                                        for e in imported if not e.get("device"))
                skipped = ["%s (%s)" % (serial, ", ".join(sorted(changes))) for serial, changes in pending_settings.items() if changes]
                if skipped:
                    self.warnings.append("Imported but not listed by Intune yet, so these settings were not applied: %s. "
                                         "Run the task again once the devices are listed." % "; ".join(skipped))
            elif imported and not params.get("wait"):
                self.warnings.append("wait is false: the import records of this run are left for Intune to process; "
                                     "run the task again to confirm the devices and apply display names")
            if params.get("wait") and params.get("cleanup_import_records", True):
                # Records that ended in error, and complete ones whose device Intune lists now; the others stay for
                # the next run (see cleanup_imports).
                self.cleanup_imports(records, listed=set(serial_key(e["spec"]["serial_number"]) for e in new if e.get("device")))
            self.sync_warning()

        if timeout is None and params.get("wait") and params.get("wait_for") == "profile_assigned":
            targets = [e for e in plan if e["action"] in ("imported", "updated", "unchanged") and e["spec"]["state"] == "present"]
            try:
                self.poll_profiles(targets)
            except WaitTimeout as exc:
                timeout = exc
            for entry in targets:
                if entry.get("profile_failed"):
                    entry["action"] = "failed"
                    entry["error_name"] = "profileAssignmentFailed"
                    entry["error_message"] = ("Intune reports deploymentProfileAssignmentStatus 'failed' (detail: %s)"
                                              % (entry["device"].get("deploymentProfileAssignmentDetailedStatus") or "none"))
        result = self.result(plan, diff, predicted=False)
        if timeout is not None:
            result["timed_out"] = True
            what = {"import": "the import to finish", "listed": "Intune to list the imported devices"}.get(
                str(timeout), "a deployment profile to be assigned")
            result["msg"] = ("Timed out after %ss waiting for %s on %d device(s): %s" % (
                params.get("wait_timeout"), what, len(timeout.waiting),
                ", ".join("%s (%s)" % (s, st) for s, st in sorted(timeout.waiting.items())[:50])))
            if str(timeout) == "listed":
                if not self.sync_answers:
                    told = "this run sent no sync"
                elif self.sync_refused():
                    told = "Intune refused this run's sync (%s; one sync every 10 minutes, none while one runs)" % ", ".join(
                        str(status) for _e, status, _c in self.sync_answers)
                else:
                    told = "this run's sync was accepted"
                result["msg"] += (". The devices are imported; Intune lists them after an Autopilot sync, and %s. Run the "
                                  "task again later (or with a wait_timeout above 600): it waits for these devices and "
                                  "syncs, without importing them again." % told)
        return result

    def result(self, plan, diff, predicted):
        devices = []
        for entry in plan:
            spec = entry["spec"]
            action = entry["action"]
            if predicted:
                action = {"import": "imported", "update": "updated", "delete": "deleted"}.get(action, action)
            item = {"serial_number": spec["serial_number"], "action": action,
                    "changes": entry.get("changes") or {}}
            if predicted and entry["action"] == "import":
                item["device"] = predicted_device(spec)
            elif predicted and entry["action"] == "update":
                device = dict(entry["device"])
                for key, gkey in (("group_tag", "groupTag"), ("display_name", "displayName"),
                                  ("assigned_user", "userPrincipalName"), ("addressable_user_name", "addressableUserName")):
                    if key in entry["changes"]:
                        device[gkey] = entry["changes"][key]["after"]
                item["device"] = device
            else:
                item["device"] = entry.get("device") or (entry.get("record") if action in ("failed", "pending") else None)
            for key in ("error_code", "error_name", "error_message"):
                if entry.get(key) is not None:
                    item[key] = entry[key]
            devices.append(item)
        summary = count_by(d["action"] for d in devices)
        summary["total"] = len(devices)
        changed = any(d["action"] in ("imported", "updated", "deleted", "pending") for d in devices)
        if not predicted:
            # A run that only waited for an earlier run's import (adopted, still pending) wrote nothing: not changed.
            changed = changed and self.writes_sent > 0
        result = {"changed": changed, "devices": devices, "summary": summary, "diff": diff,
                  "import_id": None if predicted else self.import_id}
        if self.progress:
            result["progress"] = self.progress
        return result


def _assigned(device):
    return bool(device) and (device.get("deploymentProfileAssignmentStatus") or "").startswith(ASSIGNED_PREFIX)


def _fail_entry(entry, answer, call):
    """Mark ``entry`` failed with the $batch ``answer`` to ``call`` (its method and url name the permission on a 403)."""
    error = GraphError.from_parts(answer.get("status"), answer.get("headers"), answer.get("body"), call["method"], call["url"],
                                  hint=error_hint)
    entry["action"] = "failed"
    entry["error_code"] = answer.get("status")
    entry["error_name"] = error.code
    entry["error_message"] = error.message


def _quote(value):
    return quote(value, safe="@.")

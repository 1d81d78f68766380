# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The input of ``autopilot_device``: option checks, the hardware-hash CSV and the device specifications.

Internal to this collection; it may change in any release. Pure: no Graph call, no Ansible. Every problem is
collected into one :class:`Problems` (the option, the CSV file and line, the serial), so one failure names them all
before anything is read or written.

* CSV: the portal's columns are ``Device Serial Number,Windows Product ID,Hardware Hash[,Group Tag][,Assigned User]``,
  at most 500 rows (MicrosoftDocs/memdocs: autopilot/add-devices.md). Get-WindowsAutopilotInfo writes the file with
  ``Out-File`` and no ``-Encoding``, which in Windows PowerShell 5.1 is UTF-16 LE with a byte-order mark, so that
  encoding is read as well.
* A spec is a dict of the option names in :data:`DEVICE_KEYS` that the task sets, plus ``where`` (where the user wrote
  it: ``devices[3]``, ``hashes.csv line 7``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import codecs
import csv
import io
import re

from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import EngineError, Problems

# A decoded hardware hash shorter or longer than this is refused before any call. Real 4K hashes decode to roughly
# 3-4 KB; the bounds only catch truncated cells and pasted garbage.
HASH_MIN_BYTES = 16
HASH_MAX_BYTES = 65536
# The import action documents no batch size; the portal imports CSV files of at most 500 rows (add-devices.md).
BATCH_MAX = 500

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
EXPECTED_HEADER = "Device Serial Number,Windows Product ID,Hardware Hash[,Group Tag][,Assigned User]"

DEVICE_KEYS = ("serial_number", "hardware_identifier", "product_key", "group_tag", "assigned_user",
               "addressable_user_name", "display_name", "state")

UPN_RE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def serial_key(serial):
    """Serial numbers are matched without regard to case or surrounding spaces."""
    return (serial or "").strip().upper()


def _bad(message):
    return EngineError(message, problems=[message])


def check_hash(value, where):
    """Return the hash as canonical base64 (whitespace removed), or raise :class:`EngineError` naming ``where``."""
    text = re.sub(r"\s+", "", value or "")
    if not text:
        raise _bad("%s: the hardware hash is empty" % where)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        bad = re.search(r"[^A-Za-z0-9+/=]", text)
        detail = ("character %r at position %d (whitespace not counted)" % (bad.group(), bad.start() + 1) if bad
                  else "its length or padding is wrong (%d characters)" % len(text))
        raise _bad("%s: the hardware hash is not valid base64: %s" % (where, detail))
    if not HASH_MIN_BYTES <= len(raw) <= HASH_MAX_BYTES:
        raise _bad("%s: the hardware hash decodes to %d bytes; a hardware hash is between %d and %d bytes"
                   % (where, len(raw), HASH_MIN_BYTES, HASH_MAX_BYTES))
    return text


def check_upn(value, where):
    if value and not UPN_RE.match(value):
        raise _bad("%s: assigned_user %r is not a user principal name (name@domain.tld)" % (where, value))
    return value


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


def _columns(header, source, line, problems):
    """The option of each column, or None when a required column is missing (a problem then names it)."""
    columns = [CSV_COLUMNS.get(_header_key(name)) for name in header]
    missing = [label for label, option in (("Device Serial Number", "serial_number"), ("Hardware Hash", "hardware_identifier"))
               if option not in columns]
    if missing:
        problems.add("%s line %d: the header lacks the column(s) %s (found %s); the expected header is '%s'" % (
            source, line, ", ".join(repr(m) for m in missing), ", ".join(repr(h) for h in header), EXPECTED_HEADER))
        return None
    return columns


def _csv_row(fields, columns, where, problems):
    """One device row as a dict of option names (empty cells left out), or None after adding its problem."""
    row = {"where": where}
    for option, value in zip(columns, fields):
        if option and value.strip():
            row[option] = value.strip()
    if len(fields) > len(columns) and any(f.strip() for f in fields[len(columns):]):
        problems.add("%s: %d fields but the header has %d columns" % (where, len(fields), len(columns)))
    elif not row.get("serial_number"):
        problems.add("%s: the Device Serial Number is empty" % where)
    elif not row.get("hardware_identifier"):
        problems.add("%s: serial %r has no Hardware Hash" % (where, row["serial_number"]))
    else:
        label = "%s (serial %r)" % (where, row["serial_number"])
        try:
            row["hardware_identifier"] = check_hash(row["hardware_identifier"], label)
            check_upn(row.get("assigned_user"), label)
            return row
        except EngineError as exc:
            problems.add(exc.msg)
    return None


def parse_csv(data, source="csv", problems=None):
    """Parse an Autopilot hardware-hash CSV (bytes or text); returns ``(rows, warnings)``.

    Each row is a dict with the option names of :data:`DEVICE_KEYS` that the file sets and ``where``
    (``"<source> line N"``). Every bad line (missing columns, a row without serial or hash, a hash that is not base64,
    a user that is not a UPN) is added to ``problems`` and left out; without ``problems`` they are raised at the end
    as one :class:`EngineError`.
    """
    own = problems is None
    problems = Problems() if own else problems
    text = decode_csv_bytes(data) if isinstance(data, bytes) else data
    reader = csv.reader(io.StringIO(text[1:] if text.startswith(u"\ufeff") else text), skipinitialspace=True)
    header = next((fields for fields in reader if any(f.strip() for f in fields)), None)
    rows, warnings = [], []
    if header is None:
        problems.add("%s: the file is empty; expected the header '%s'" % (source, EXPECTED_HEADER.split("[")[0]))
    else:
        columns = _columns(header, source, reader.line_num, problems)
        unknown = [name.strip() for name, option in zip(header, columns or ()) if option is None and name.strip()]
        if unknown:
            warnings.append("%s: ignored the column(s) %s" % (source, ", ".join(repr(u) for u in unknown)))
        for fields in reader if columns else ():
            if any(f.strip() for f in fields):
                row = _csv_row(fields, columns, "%s line %d" % (source, reader.line_num), problems)
                if row is not None:
                    rows.append(row)
    if own:
        problems.check()
    return rows, warnings


def read_csv(path, problems):
    """``(rows, warnings)`` of the CSV file at ``path``; a file that cannot be read is a problem."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        problems.add("Cannot read csv_path '%s': %s" % (path, exc))
        return [], []
    return parse_csv(data, path, problems)


def _spec_from_dict(item, where, defaults):
    spec = {"where": where}
    for key in DEVICE_KEYS:
        if item.get(key) is not None:
            spec[key] = item[key].strip() if isinstance(item[key], str) and key != "hardware_identifier" else item[key]
    if spec.get("group_tag") is None and defaults.get("group_tag") is not None:
        spec["group_tag"] = defaults["group_tag"]
    spec.setdefault("state", defaults.get("state") or "present")
    return spec


def _label(key):
    return {"hardware_identifier": "hardware hashes"}.get(key, key)


def _checked(spec, where, problems):
    """The spec with its hash made canonical, or None after adding its problem."""
    serial = spec.get("serial_number")
    if not serial:
        problems.add("%s: the serial number is empty" % where)
        return None
    label = "%s (serial %r)" % (where, serial)
    try:
        if spec.get("hardware_identifier") is not None:
            spec["hardware_identifier"] = check_hash(spec["hardware_identifier"], label)
        check_upn(spec.get("assigned_user"), label)
    except EngineError as exc:
        problems.add(exc.msg)
        return None
    if spec.get("addressable_user_name") and not spec.get("assigned_user"):
        problems.add("%s: addressable_user_name needs assigned_user" % label)
        return None
    return spec


def collect_specs(params, csv_rows=None, problems=None):
    """Merge the single-device options, ``devices`` and CSV rows into one list of device specs.

    ``params`` are the module parameters. The top-level ``group_tag`` is the group tag of the single device, and the
    default for list and CSV devices that set none. A serial given twice with the same settings is used once; given
    twice with different settings it is a problem naming both places. Problems go to ``problems``; without it they
    are raised as one :class:`EngineError`.
    """
    own = problems is None
    problems = Problems() if own else problems
    defaults = {"group_tag": params.get("group_tag"), "state": params.get("state")}
    raw = []
    if params.get("serial_number") is not None:
        raw.append((dict((k, params.get(k)) for k in DEVICE_KEYS), "serial_number %r" % params["serial_number"]))
    raw.extend((item, "devices[%d]" % index) for index, item in enumerate(params.get("devices") or []))
    raw.extend((row, row["where"]) for row in csv_rows or [])
    specs, by_key, hashes = [], {}, {}
    for item, where in raw:
        spec = _checked(_spec_from_dict(item, where, defaults), where, problems)
        if spec is None:
            continue
        label = "%s (serial %r)" % (where, spec["serial_number"])
        previous = by_key.get(serial_key(spec["serial_number"]))
        if previous is not None:
            mine, theirs = (dict((k, v) for k, v in s.items() if k != "where") for s in (spec, previous))
            differ = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k) and k != "serial_number")
            if differ:
                problems.add("serial %r is given twice with different %s: %s and %s" % (
                    spec["serial_number"], " and ".join(_label(k) for k in differ), previous["where"], where))
            continue
        hwid = spec.get("hardware_identifier")
        if hwid and hwid in hashes and spec["state"] == "present":
            problems.add("%s: the hardware hash is identical to that of %s; Intune would reject one as ZtdDeviceDuplicated"
                         % (label, hashes[hwid]))
            continue
        if hwid:
            hashes[hwid] = label
        by_key[serial_key(spec["serial_number"])] = spec
        specs.append(spec)
    if own:
        problems.check()
    return specs


def check_options(params, problems):
    """The numeric options' ranges."""
    for name, low in (("batch_size", 1), ("wait_timeout", 0), ("poll_interval", 1)):
        if params[name] < low:
            problems.add("%s must be at least %d, got %d" % (name, low, params[name]))
    if params["batch_size"] > BATCH_MAX:
        problems.add("batch_size must be at most %d (the largest import Intune documents), got %d" % (BATCH_MAX, params["batch_size"]))


def device_specs(params):
    """``(specs, warnings)`` for the module's parameters; every problem of the input is raised at once."""
    problems = Problems()
    check_options(params, problems)
    rows, warnings = read_csv(params["csv_path"], problems) if params.get("csv_path") else ([], [])
    specs = collect_specs(params, rows, problems)
    if not specs and not problems:
        problems.add("No devices given: the CSV file has no device rows and devices is empty")
    problems.check()
    return specs, warnings

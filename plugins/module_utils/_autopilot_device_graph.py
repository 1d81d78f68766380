# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Graph reads and paced writes of Autopilot devices and import records (``autopilot_device`` and its ``_info``).

Internal to this collection; it may change in any release. Facts (microsoftgraph/microsoft-graph-docs-contrib unless
named otherwise):

* Registered devices: ``GET /deviceManagement/windowsAutopilotDeviceIdentities`` (beta carries
  ``deploymentProfileAssignmentStatus``; v1.0 does not). The list page
  (api-reference/beta/api/intune-enrollment-windowsautopilotdeviceidentity-list.md) documents no query parameter.
  ``$filter=serialNumber eq '...'`` is answered 400, ``contains(serialNumber,'...')`` works, and a hyphenated serial
  in ``contains`` was seen answered 400 (not in Microsoft's docs: microsoft-graph-docs issue #9357, microsoft-graph-docs-contrib
  issue #3693, msgraph-sdk-powershell issues #1260/#2464). Hence :data:`FILTER_THRESHOLD`, :func:`filterable_serial`,
  and the fall-back to the whole list on a 400 (:class:`DeviceReader`).
* Serial casing in the filter: nothing says whether ``contains`` ignores case. The filter carries the serial in
  capitals, as OEMs write hardware serials, Get-WindowsAutopilotInfo reports them and the portal's CSV holds them; a
  serial the user did not write in capitals that the filter does not find is looked up in the whole list before the
  module takes it as not registered, and when the list holds it the filter is not used again in the run.
* Intune list pages: the page size is undocumented (about 1,000 reported, not in Microsoft's docs: microsoftgraph/powershell-intune-
  samples issue #2). No ``$top`` is sent: concepts/query-parameters.md says ``$top`` "sets the page size of results",
  but some APIs treat it as a cap on the whole result, so lists follow ``@odata.nextLink`` with the service's size.
* Intune enrollment throttling: 100 writes and 1,000 requests per 20 s per app and tenant
  (includes/throttling-intune-enrollment.md); ``$batch`` takes at most 20 requests, each throttled on its own
  (concepts/json-batching.md). :class:`WriteBudget` keeps every write of a run (imports, action calls, deletes, the
  sync) under the write limit, so that inner 429 answers, and the ``$batch`` requests that repeat them, do not occur.
* Import records (resources/intune-enrollment-importedwindowsautopilotdeviceidentitystate.md):
  ``state.deviceImportStatus`` is ``unknown``/``pending``/``partial``/``complete``/``error`` with ``deviceErrorCode``
  and ``deviceErrorName``. The one real import answer on record (MSEndpointMgr/Intune issue #71) carries the record
  ``id``, ``serialNumber`` and ``state``, an empty ``hardwareIdentifier``, and the record id as ``productKey`` and
  ``importId``: records are matched by id and serial only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
from collections import deque

from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_device_input import serial_key
from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_device_plan import DEVICES_PATH
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import BATCH_MAX, GraphError

IMPORTS_PATH = "/deviceManagement/importedWindowsAutopilotDeviceIdentities"
DEVICE_SELECT = ",".join((
    "id", "serialNumber", "groupTag", "displayName", "userPrincipalName", "addressableUserName",
    "deploymentProfileAssignmentStatus", "deploymentProfileAssignmentDetailedStatus",
    "deploymentProfileAssignedDateTime", "enrollmentState", "manufacturer", "model",
    "productKey", "purchaseOrderIdentifier", "azureAdDeviceId", "managedDeviceId",
))

# Up to this many requested serials are looked up one by one with $filter=contains(...); above it (or when a serial
# cannot be put in a contains() filter) the whole device list is read in pages. Ten filtered GETs cost the same as
# reading a 10,000-device tenant at 1,000 per page, and a one-device task then needs one small read.
FILTER_THRESHOLD = 10
FILTERABLE_RE = re.compile(r"^[A-Za-z0-9]+$")
FILTER_REFUSED = ("Intune refused $filter=contains(serialNumber,...) on windowsAutopilotDeviceIdentities (400); "
                  "the whole device list was read instead")
FILTER_MISSED = ("$filter=contains(serialNumber,...) did not find %s, which the whole device list holds (Intune may "
                 "compare serials with case); the whole list was read instead")

# Intune: 100 writes per 20 s per app and tenant (every inner request of a $batch counts).
WRITE_LIMIT = (100, 20.0)
# While the run waits, the clean-up leaves this many writes of the window to the calls that must not wait.
CLEANUP_RESERVE = BATCH_MAX

IMPORT_TERMINAL = ("complete", "error")
# Plain explanations of the import errors Microsoft documents (MicrosoftDocs/SupportArticles-docs:
# support/mem/intune/device-enrollment/import-windows-autopilot-device-csv-files-errors.md, memdocs autopilot/add-devices.md).
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


def filterable_serial(serial):
    """Can this serial go into ``contains(serialNumber,'...')`` safely (letters and digits only)?"""
    return bool(FILTERABLE_RE.match(serial or ""))


def import_status(record):
    return ((record or {}).get("state") or {}).get("deviceImportStatus") or "unknown"


def explain_error(code, name):
    """``(code, name, message)`` with a plain explanation for the documented import errors."""
    if not name and code in ERROR_CODE_NAMES:
        name = ERROR_CODE_NAMES[code]
    message = ERROR_EXPLANATIONS.get(name or "")
    if message is None:
        message = "The import failed with %s%s." % (name or "an unnamed error", " (code %s)" % code if code else "")
    return code, name, message


def chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class DeviceReader(object):
    """The one way both device modules read registered devices by serial (``select``: the ``$select``, or all)."""

    def __init__(self, client, select=None, warnings=None):
        self.client = client
        self.query = {"$select": select} if select else None
        self.filter_ok = True
        self.warnings = [] if warnings is None else warnings

    def list_all(self):
        return self.client.list(DEVICES_PATH, params=dict(self.query) if self.query else None)

    def read(self, serials):
        """Registered devices for ``serials``: filtered GETs for a few, one paged list for many (or once the filter
        failed). The result may hold other devices too (``contains`` matches parts of serials, the list holds all):
        callers look their serials up with :func:`index_devices`."""
        serials = [s.strip() for s in serials]
        if not serials:
            return []
        if not (self.filter_ok and len(serials) <= FILTER_THRESHOLD and all(filterable_serial(s) for s in serials)):
            return self.list_all()
        found = {}
        try:
            for serial in serials:
                query = dict(self.query or {}, **{"$filter": "contains(serialNumber,'%s')" % serial.upper()})
                for device in self.client.list(DEVICES_PATH, params=query):
                    found.setdefault(device.get("id"), device)
        except GraphError as exc:
            if exc.status != 400:
                raise
            return self._give_up(FILTER_REFUSED)
        have = set(serial_key(d.get("serialNumber")) for d in found.values())
        unsure = [s for s in serials if serial_key(s) not in have and s != s.upper()]
        if not unsure:
            return list(found.values())
        everything = self.list_all()
        listed = set(serial_key(d.get("serialNumber")) for d in everything)
        missed = [s for s in unsure if serial_key(s) in listed]
        if missed:
            self._give_up(FILTER_MISSED % ", ".join(repr(s) for s in missed), read=False)
        return everything

    def _give_up(self, warning, read=True):
        self.filter_ok = False
        self.warnings.append(warning)
        return self.list_all() if read else None


class WriteBudget(object):
    """Intune's write limit as a sliding window: never more than ``limit[0]`` writes in any ``limit[1]`` seconds.

    A write is counted from the moment its answer came back, which is later than the service saw it, so the window
    kept here is never ahead of the service's. ``clock``/``sleep`` are injectable so unit tests need not wait.
    """

    def __init__(self, clock, sleep, limit=WRITE_LIMIT):
        self.size, self.window = limit
        self.clock, self.sleep = clock, sleep
        self.times = deque()
        self.used = 0

    def free(self):
        now = self.clock()
        while self.times and self.times[0] <= now - self.window:
            self.times.popleft()
        return self.size - len(self.times)

    def wait(self, count):
        """Sleep until ``count`` more writes fit in the window."""
        count = min(count, self.size)
        while self.free() < count:
            oldest_to_leave = self.times[len(self.times) - (self.size - count) - 1]
            self.sleep(max(0.0, oldest_to_leave + self.window - self.clock()))

    def spend(self, count):
        now = self.clock()
        self.times.extend([now] * count)
        self.used += count


class Writer(object):
    """Action calls and deletes through ``$batch``, 20 per request, each request paced by the :class:`WriteBudget`."""

    def __init__(self, client, budget):
        self.client, self.budget = client, budget

    def send(self, calls, reserve=None):
        """Answers to ``calls`` in order. With ``reserve``, send only while that many writes stay free, without
        waiting: the answers then cover the calls sent, a prefix of ``calls``."""
        answers = []
        for chunk in chunks(calls, BATCH_MAX):
            writes = sum(1 for c in chunk if c["method"] != "GET")
            if reserve is not None and self.budget.free() - reserve < writes:
                break
            self.budget.wait(writes)
            answers.extend(self.client.batch(chunk))
            self.budget.spend(writes)
        return answers


class Cleanup(object):
    """This run's import records to delete, sent while the run waits (:meth:`work`) and at its end (:meth:`finish`).

    Only records handed over with :meth:`add` are deleted: those the run imported or adopted, once terminal.
    """

    def __init__(self, writer):
        self.writer = writer
        self.queue = []
        self.seen = set()
        self.failed = []

    def add(self, records):
        for record in records:
            if record.get("id") and record["id"] not in self.seen:
                self.seen.add(record["id"])
                self.queue.append(record)

    def work(self, block=False):
        """Delete queued records: without ``block`` only what the budget allows now, beyond :data:`CLEANUP_RESERVE`."""
        while self.queue:
            calls = [{"method": "DELETE", "url": "%s/%s" % (IMPORTS_PATH, r["id"])} for r in self.queue[:BATCH_MAX]]
            answers = self.writer.send(calls, reserve=None if block else CLEANUP_RESERVE)
            if not answers:
                return
            done, self.queue = self.queue[:len(answers)], self.queue[len(answers):]
            self.failed.extend(r.get("serialNumber") for r, a in zip(done, answers) if a.get("status") not in (200, 204, 404))

    def finish(self):
        self.work(block=True)
        if self.failed:
            return "Could not delete the import records of %s; delete them in the Intune portal" % ", ".join(self.failed)
        return None

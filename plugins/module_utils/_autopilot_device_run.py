# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run of ``autopilot_device``: its phases, in order, each a short method of :class:`DeviceRun`.

Internal to this collection; it may change in any release.

1. :meth:`~DeviceRun.plan`: resolve the assigned users, read the devices, plan each spec; every problem at once.
2. :meth:`~DeviceRun.write_registered`: updates and deletes of registered devices.
3. :meth:`~DeviceRun.import_new`: adopt an earlier run's import records, import the rest, wait for the records,
   sync, wait until Intune lists the devices, then apply what the import cannot carry (:meth:`~DeviceRun.follow_up`).
4. :meth:`~DeviceRun.wait_deleted` and :meth:`~DeviceRun.wait_profiles`.
5. :meth:`~DeviceRun.finish`: the rest of the import-record clean-up, a read-back of what was written, the result.

Every wait goes through ``wait_for`` with the run's one deadline (``wait_timeout``) and fixed ``poll_interval``.
While a wait sleeps, :meth:`~DeviceRun.background` deletes the import records that are done with, within the same
write budget as every other write (:class:`WriteBudget`), so the clean-up takes place during the waits.

Behaviours Microsoft leaves open, and the choice made here:

* "Profile assigned" (``wait_for: profile_assigned``): ``deploymentProfileAssignmentStatus`` is ``assignedInSync``
  ("in sync with Windows auto pilot program") or ``assignedUnkownSyncState`` ("assigned successfully in Intune and
  either in-sync or out of sync"), and ``deploymentProfileAssignedDateTime`` is set (resources/intune-enrollment-
  windowsautopilotprofileassignmentstatus.md; MicrosoftDocs/memdocs autopilot/profiles.md: "ensure that Date
  assigned is populated ... wait until it populates before deploying the device"). ``assignedOutOfSync`` says the
  Autopilot service does not have the assignment yet, so the wait goes on; ``failed`` fails the device. Microsoft's
  Get-WindowsAutopilotInfo accepts any ``assigned...`` status; the unknown sync state is accepted with the date, since
  Intune itself reports the assignment done and nothing says the state ever becomes known.
* Deletion (memdocs autopilot/includes/deregister-autopilot-device.md): the user is unassigned first, then the
  device deleted; "the deregistration process might take some time", and the list shows the device until it ends.
  With ``wait`` the run waits (same deadline) until the list no longer holds it, so that a re-run finds it gone.
  Graph shows nothing of a deletion under way (no such property on windowsAutopilotDeviceIdentity, and the device
  reads as before): only the run that sent the DELETE knows. A re-run while Intune still lists the device, after a
  wait cut short, therefore sends the DELETE again; no answer to it is documented (the emulator answers 204 and
  changes nothing). Keeping the knowledge on the controller instead would make check mode's prediction depend on
  which controller runs it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time
import uuid

from urllib.parse import quote

from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_device_input import serial_key
from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_device_graph import (
    IMPORT_TERMINAL, IMPORTS_PATH, DEVICE_SELECT, Cleanup, DeviceReader, WriteBudget, Writer, chunks, explain_error,
    import_status,
)
from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_device_plan import (
    ABSENT, CHANGES, DELETE, DELETED, DEVICES_PATH, FAILED, IMPORT, IMPORTED, PENDING, PREDICTED, UNCHANGED, UPDATE,
    UPDATED, apply_changes, build_diff, delete_requests, device_changes, import_record, imported_view, index_devices,
    plan_devices, predicted_device, update_requests,
)
from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_sync import AutopilotSync, graph_time
from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import Problems, WaitTimeout, wait_for
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_permissions import error_hint

READY_STATUSES = ("assignedInSync", "assignedUnkownSyncState")
WAITING_FOR = {"import": "the import to finish", "listed": "Intune to list the imported devices",
               "deleted": "Intune to remove the deleted devices", "profile": "a deployment profile to be assigned"}
# A profile wait that times out looks up the intended profile of this many notAssigned devices (one $batch).
WHY_READS = 20


def count_by(values):
    counts = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def profile_status(device):
    return (device or {}).get("deploymentProfileAssignmentStatus") or "not registered"


def profile_ready(device):
    """Intune says the profile is assigned (see the module docstring)."""
    return profile_status(device) in READY_STATUSES and graph_time((device or {}).get("deploymentProfileAssignedDateTime")) is not None


def _failure(entry, answer, call):
    """Fail ``entry`` with the $batch ``answer`` to ``call`` (its method and url name the permission on a 403)."""
    error = GraphError.from_parts(answer.get("status"), answer.get("headers"), answer.get("body"), call["method"], call["url"],
                                  hint=error_hint)
    entry.fail(error.message, code=answer.get("status"), name=error.code)


class DeviceRun(object):
    """Plans and applies one task's devices and builds the module result. ``module`` is a GraphModule.

    ``clock``/``sleep`` are injectable so unit tests need not wait.
    """

    def __init__(self, module, params, clock=time.time, sleep=time.sleep):
        self.module, self.client, self.params = module, module.client, params
        self.clock, self.sleep = clock, sleep
        self.import_id = str(uuid.uuid4())
        self.progress, self.warnings = [], []
        self.reader = DeviceReader(self.client, DEVICE_SELECT, self.warnings)
        self.budget = WriteBudget(clock, sleep)
        self.writer = Writer(self.client, self.budget)
        self.cleanup = Cleanup(self.writer) if params["wait"] and params["cleanup_import_records"] else None
        self.started = self.clock()
        self.deadline = self.started + float(params["wait_timeout"])
        self.sync = AutopilotSync(self.client, self.budget, clock, self.started, self.note_progress)
        self.imports_before = set()  # ids of the import records listed before this run imported (adopt_imports)
        self.timeout = None  # (phase, {serial: last state}) of a wait that ran out
        self.why = None  # why the devices of a profile wait that ran out still wait
        self.touched = []  # entries written to, read back at the end
        self.read_back = False
        self.diff = None

    @property
    def writes_sent(self):
        """Writes Intune accepted (a refused sync changed nothing): ``changed`` needs at least one."""
        return self.budget.used - self.sync.refusals

    def run(self, specs, check_mode):
        """Plan and (unless ``check_mode``) apply; returns the module result."""
        plan = self.plan(specs, check_mode)
        if check_mode:
            return self.result(plan, predicted=True)
        self.write_registered(plan)
        new = [e for e in plan if e.action == IMPORT]
        if new:
            self.import_new(new)
        if self.params["wait"]:
            self.wait_deleted(plan)
            if self.params["wait_for"] == "profile_assigned":
                self.wait_profiles(plan)
        return self.finish(plan)

    # -- 1. plan ------------------------------------------------------------------------------------------------

    def plan(self, specs, check_mode):
        problems = Problems()
        self.resolve_users(specs, problems)
        index = index_devices(self.reader.read([s["serial_number"] for s in specs]))
        plan = plan_devices(specs, index, check_mode=check_mode and self.params["check_mode_missing"] == "warn")
        for entry in plan:
            if entry.missing and check_mode:
                entry.error = (None, None, entry.error[2] + "; check the serial, or, when an earlier task of the play "
                               "imports it, set check_mode_missing: warn")
            if entry.assumed:
                self.warnings.append("%s: serial %r is not registered yet; check mode assumes an earlier task imports it"
                                     % (entry.spec["where"], entry.serial))
        if self.params["fail_on_error"]:
            problems.extend(e.error[2] for e in plan if e.action == FAILED)
        problems.check()
        self.diff = build_diff(plan)
        return plan

    def resolve_users(self, specs, problems):
        """Canonical UPN and display name (``user_display_name``) of each assigned user; an unknown user is a problem."""
        wanted = {}
        for spec in specs:
            if spec.get("assigned_user") and spec["state"] == "present":
                wanted.setdefault(spec["assigned_user"].lower(), []).append(spec)
        names = sorted(wanted)
        answers = self.client.batch([{"method": "GET", "url": "/users/%s?$select=id,userPrincipalName,displayName" % quote(
            wanted[n][0]["assigned_user"], safe="@.")} for n in names], api="v1.0") if names else []
        for name, answer in zip(names, answers):
            given = wanted[name][0]["assigned_user"]
            if answer.get("status") == 200:
                user = answer.get("body") or {}
                for spec in wanted[name]:
                    spec["assigned_user"] = user.get("userPrincipalName") or given
                    spec["user_display_name"] = user.get("displayName") or ""
            elif answer.get("status") == 404:
                problems.add("assigned_user %r (%s) does not exist in Microsoft Entra ID"
                             % (given, ", ".join(s["where"] for s in wanted[name][:3])))
            else:
                error = (answer.get("body") or {}).get("error") or {}
                problems.add("Failed to read user %r: %s %s: %s" % (given, answer.get("status"), error.get("code"), error.get("message")))

    # -- 2. registered devices ----------------------------------------------------------------------------------

    def write_registered(self, plan):
        """Updates (properties, then the user) and deletes (the user unassigned, then the device)."""
        self.send_in_order([(e, update_requests(e.device["id"], e.spec, e.changes)) for e in plan if e.action == UPDATE]
                           + [(e, delete_requests(e.devices)) for e in plan if e.action == DELETE])
        for entry in plan:
            if entry.action in (UPDATE, DELETE, UNCHANGED, ABSENT):
                entry.finish(PREDICTED.get(entry.action, entry.action))
            if entry.action == UPDATE:
                self.touched.append(entry)

    def send_in_order(self, queues):
        """Send each entry's calls in order: the n-th call of every entry goes in round n, after round n-1 answered,
        so two calls on one device are never in one ``$batch`` (whose requests may run in any order). A failed call
        fails its entry and stops the rest of its calls."""
        step = 0
        while True:
            due = [(entry, calls[step]) for entry, calls in queues if step < len(calls) and entry.outcome != FAILED]
            if not due:
                return
            for (entry, call), answer in zip(due, self.writer.send([call for _e, call in due])):
                ok = (200, 204, 404) if call["method"] == "DELETE" else (200, 204)
                if answer.get("status") not in ok:
                    _failure(entry, answer, call)
            step += 1

    # -- 3. new devices -----------------------------------------------------------------------------------------

    def import_new(self, new):
        adopted = self.adopt_imports(new)
        records = self.import_devices([e for e in new if e.key not in adopted])
        records.update(adopted)
        for entry in new:
            entry.record = records.get(entry.key)
            if entry.record is None:
                entry.fail("The import action returned no record for this serial.")
        if self.params["wait"]:
            self.wait_imports([e for e in new if e.outcome != FAILED])
        for entry in new:
            if entry.outcome == FAILED:
                continue
            status = import_status(entry.record)
            if status == "error":
                state = entry.record.get("state") or {}
                code, name, message = explain_error(state.get("deviceErrorCode"), state.get("deviceErrorName"))
                entry.fail(message, code=code, name=name)
            elif status == "complete" or (not self.params["wait"] and entry.key not in adopted):
                entry.finish(IMPORTED)
            else:
                entry.finish(PENDING)
        if self.cleanup is not None:
            self.cleanup.add(e.record for e in new if e.record and import_status(e.record) == "error")
        imported = [e for e in new if e.outcome == IMPORTED]
        if imported and self.params["sync"]:
            self.sync.trigger()
        if imported and not self.params["wait"]:
            self.warnings.append("wait is false: the import records of this run are left for Intune to process; "
                                 "run the task again to confirm the devices and apply display names")
        elif imported and self.timeout is None:
            self.wait_listed(imported)
            self.follow_up(imported)
        warning = self.sync.warning()
        if warning:
            self.warnings.append(warning)

    def adopt_imports(self, entries):
        """Import records of an earlier run for serials this run would import: ``serial key -> record``.

        They come from an earlier run that stopped waiting (``wait_timeout``, or ``wait: false``) or from another
        tool. Importing those serials again would end in 806 ZtdDeviceAlreadyAssigned, because the device is (or is
        about to be) registered, only not listed until a sync has run; so the run adopts the records that are under
        way or complete: it waits for them, syncs, waits until the devices are listed and cleans the records up as
        its own. A record that ended in error is not adopted. The ids of every record listed here are kept: a record
        that appears later with one of this run's serials is this run's (see :meth:`_probe`).
        """
        keys = set(e.key for e in entries)
        listed = self.client.list(IMPORTS_PATH)
        self.imports_before = set(r.get("id") for r in listed)
        adopted = {}
        for record in listed:
            key = serial_key(record.get("serialNumber"))
            if key in keys and import_status(record) != "error" and (key not in adopted or import_status(record) == "complete"):
                adopted[key] = record
        going = sorted(r.get("serialNumber") or "?" for r in adopted.values() if import_status(r) != "complete")
        done = sorted(r.get("serialNumber") or "?" for r in adopted.values() if import_status(r) == "complete")
        how = "waiting for" if self.params["wait"] else "leaving it to Intune"
        if going:
            self.warnings.append("An import was already under way for %d device(s) (%s); %s it instead of importing them "
                                 "again." % (len(going), ", ".join(going), how))
        if done:
            self.warnings.append("An earlier import of %d device(s) (%s) is complete but Intune does not list them yet; %s "
                                 "them instead of importing them again." % (len(done), ", ".join(done), how))
        return adopted

    def import_devices(self, entries):
        """POST the import action in batches of ``batch_size``; returns ``serial key -> import record``."""
        records = {}
        for batch in chunks(entries, self.params["batch_size"]):
            keys = set(e.key for e in batch)
            missing = batch
            for probe in (self._probe(keys), None):  # part of a batch recorded before a drop: the rest is sent once
                self.budget.wait(1)
                answer = self.client.post(IMPORTS_PATH + "/import", probe=probe, json={
                    "importedWindowsAutopilotDeviceIdentities": [import_record(e.spec, self.import_id) for e in missing]})
                self.budget.spend(1)
                for record in (answer or {}).get("value") or []:
                    records[serial_key(record.get("serialNumber"))] = record
                missing = [e for e in batch if e.key not in records]
                if not missing or len(missing) == len(batch):
                    break
        return records

    def _probe(self, keys):
        """After a 5xx or a dropped connection: did the service take the batch anyway? Its records are those with one
        of its serials that were not listed before the import; ``importId`` is not used, as the service may overwrite
        it (the real answer in MSEndpointMgr/Intune issue #71 carries the record id there)."""
        def probe():
            mine = [r for r in self.client.list(IMPORTS_PATH)
                    if serial_key(r.get("serialNumber")) in keys and r.get("id") not in self.imports_before]
            return {"value": mine} if mine else None
        return probe

    def wait_imports(self, entries):
        """Until each import record is ``complete`` or ``error`` (records are matched by id, never by ``importId``)."""
        def look(first):
            if not first:
                by_id = dict((r.get("id"), r) for r in self.client.list(IMPORTS_PATH))
                for entry in entries:
                    entry.record = by_id.get(entry.record.get("id"), entry.record)
                self.note_progress("import", count_by(import_status(e.record) for e in entries))
            waiting = [e for e in entries if import_status(e.record) not in IMPORT_TERMINAL]
            return not waiting, dict((e.record.get("serialNumber") or e.serial, import_status(e.record)) for e in waiting)
        self.wait("import", look)

    def wait_listed(self, entries):
        """Until Intune lists each imported device (after a sync: memdocs autopilot/add-devices.md); a refused sync is
        sent again when Intune can accept it. The record of a listed device goes to the clean-up; the record of a
        device not listed when the wait ends stays, as the next run's evidence that it is imported."""
        def look(first):
            index = index_devices(self.reader.read([e.serial for e in entries]))
            for entry in entries:
                entry.device = (index.get(entry.key) or [entry.device])[0]
            listed = [e for e in entries if e.device]
            if not first:
                self.note_progress("listed", {"listed": len(listed), "not listed": len(entries) - len(listed)})
            if self.cleanup is not None:
                self.cleanup.add(e.record for e in listed)
            return len(listed) == len(entries), dict((e.serial, "not listed") for e in entries if not e.device)
        self.wait("listed", look, retry_sync=True)

    def follow_up(self, entries):
        """What the import cannot carry (display name, the user's friendly name), once the device is listed."""
        queues = [(e, update_requests(e.device["id"], e.spec, device_changes(e.spec, e.device, imported=True)))
                  for e in entries if e.device]
        queues = [(e, calls) for e, calls in queues if calls]
        self.send_in_order(queues)
        self.touched.extend(e for e, _calls in queues)
        skipped = ["%s (%s)" % (e.serial, ", ".join(sorted(changes))) for e, changes in (
            (e, device_changes(e.spec, imported_view(e.spec), imported=True)) for e in entries if not e.device) if changes]
        if skipped:
            self.warnings.append("Imported but not listed by Intune yet, so these settings were not applied: %s. "
                                 "Run the task again once the devices are listed." % "; ".join(skipped))

    # -- 4. the other waits -------------------------------------------------------------------------------------

    def wait_deleted(self, plan):
        """Until the list no longer holds the devices this run deleted."""
        entries = [e for e in plan if e.outcome == DELETED]
        if not entries or self.timeout is not None:
            return
        ids = set(d["id"] for e in entries for d in e.devices)

        def look(first):
            listed = ids & set(d.get("id") for d in self.reader.read([e.serial for e in entries]))
            still = [e for e in entries if any(d["id"] in listed for d in e.devices)]
            if not first:
                self.note_progress("deleted", {"removed": len(entries) - len(still), "still listed": len(still)})
            return not still, dict((e.serial, "still listed") for e in still)
        self.wait("deleted", look)

    def wait_profiles(self, plan):
        """Until each present device has its profile (:func:`profile_ready`); ``failed`` fails the device."""
        entries = [e for e in plan if e.outcome in (IMPORTED, UPDATED, UNCHANGED) and e.spec["state"] == "present"]
        if self.timeout is not None:
            return

        def look(first):
            if not first:
                index = index_devices(self.reader.read([e.serial for e in entries]))
                for entry in entries:
                    entry.device = (index.get(entry.key) or [entry.device])[0]
                self.read_back = True
                self.note_progress("profile", count_by(profile_status(e.device) for e in entries))
            for entry in entries:
                if entry.outcome != FAILED and profile_status(entry.device) == "failed":
                    entry.fail("Intune reports deploymentProfileAssignmentStatus 'failed' (detail: %s)" % (
                        entry.device.get("deploymentProfileAssignmentDetailedStatus") or "none"), name="profileAssignmentFailed")
            waiting = [e for e in entries if e.outcome != FAILED and not profile_ready(e.device)]
            return not waiting, dict((e.serial, profile_status(e.device)) for e in waiting)
        if not self.wait("profile", look):
            self.why = self.why_waiting([e for e in entries if e.serial in self.timeout[1]])

    def why_waiting(self, entries):
        """Why each device still waits for its profile, from its status and, for ``notAssigned`` devices, the profile
        Intune intends for it (``GET .../{id}/intendedDeploymentProfile``, documented on
        api-reference/beta/api/intune-enrollment-windowsautopilotdeploymentprofile-get.md; one $batch)."""
        unassigned = [e for e in entries if e.device and profile_status(e.device) == "notAssigned"][:WHY_READS]
        answers = self.client.batch([{"method": "GET", "url": "%s/%s/intendedDeploymentProfile?$select=id,displayName" % (
            DEVICES_PATH, e.device["id"])} for e in unassigned]) if unassigned else []
        intended = dict((e.serial, a) for e, a in zip(unassigned, answers))
        reasons = {}
        for entry in entries:
            status, answer = profile_status(entry.device), intended.get(entry.serial) or {}
            if status in READY_STATUSES:
                why = "assigned, but Intune has not filled in the date assigned yet"
            elif status == "assignedOutOfSync":
                why = "assigned in Intune, not yet in sync with the Windows Autopilot service"
            elif status == "pending":
                why = "Intune is assigning the profile"
            elif answer.get("status") == 200:
                why = "Intune intends the profile %r but has not assigned it yet" % ((answer.get("body") or {}).get("displayName"))
            elif answer.get("status") == 404:
                why = ("no deployment profile targets it: no profile is assigned to a group it is a member of (is there a "
                       "group whose rule matches its group tag %r, and is a profile assigned to it?)" % (entry.device.get("groupTag") or ""))
            else:
                continue
            reasons.setdefault(why, []).append(entry.serial)
        return "; ".join("%s: %s" % (", ".join(sorted(s)[:20]), why) for why, s in sorted(reasons.items())) or None

    def wait(self, phase, look, retry_sync=False):
        """``wait_for`` on ``look(first)`` -> ``(done, {serial: state})`` with the run's deadline; False on timeout."""
        state = {"first": True, "polls": 0}

        def check():
            done = look(state["first"])
            state["first"] = False
            return done

        def on_poll(_seen):
            state["polls"] += 1
            if retry_sync and state["polls"] > 1:  # one poll interval at least after the sync sent before this wait
                self.sync.retry()
            self.background()
        try:
            wait_for(check, self.params["wait_timeout"], WAITING_FOR[phase], interval=self.params["poll_interval"],
                     max_interval=self.params["poll_interval"], sleep=self.sleep, clock=self.clock,
                     deadline=self.deadline, on_poll=on_poll)
        except WaitTimeout as exc:
            self.timeout = (phase, exc.last_seen)
            return False
        return True

    def background(self):
        """Work done while a wait sleeps: deleting the import records that are done with, within the write budget."""
        if self.cleanup is not None:
            self.cleanup.work()

    def note_progress(self, phase, counts):
        elapsed = int(round(self.clock() - self.started))
        self.progress.append({"phase": phase, "elapsed": elapsed, "counts": counts})
        self.module.note_progress(self.progress[-1])
        self.module.log("autopilot_device: %s after %ds: %s" % (phase, elapsed, ", ".join(
            "%s=%d" % (k, v) for k, v in sorted(counts.items()))))

    # -- 5. the end ---------------------------------------------------------------------------------------------

    def finish(self, plan):
        if self.cleanup is not None:
            warning = self.cleanup.finish()
            if warning:
                self.warnings.append(warning)
        if self.touched and not self.read_back:  # the devices as they are after the writes
            index = index_devices(self.reader.read([e.serial for e in self.touched]))
            for entry in self.touched:
                entry.device = (index.get(entry.key) or [entry.device])[0]
        return self.result(plan)

    def result(self, plan, predicted=False):
        devices = [self.item(entry, predicted) for entry in plan]
        summary = count_by(d["action"] for d in devices)
        summary["total"] = len(devices)
        # A run that only waited for an earlier run's import (adopted, still pending) wrote nothing: not changed.
        changed = any(d["action"] in CHANGES for d in devices) and (predicted or self.writes_sent > 0)
        result = {"changed": changed, "devices": devices, "summary": summary, "diff": self.diff,
                  "import_id": None if predicted else self.import_id}
        if self.progress:
            result["progress"] = self.progress
        if self.timeout is not None:
            result["timed_out"] = True
            result["msg"] = self.timeout_message()
        return result

    def item(self, entry, predicted):
        action = PREDICTED.get(entry.action, entry.action) if predicted else entry.outcome
        item = {"serial_number": entry.serial, "action": action, "changes": entry.changes}
        if predicted and entry.action == IMPORT:
            item["device"] = predicted_device(entry.spec)
        elif predicted and entry.action == UPDATE:
            item["device"] = apply_changes(entry.device, entry.changes)
        else:
            item["device"] = entry.device or (entry.record if action in (FAILED, PENDING) else None)
        for key, value in zip(("error_code", "error_name", "error_message"), entry.error or ()):
            if value is not None:
                item[key] = value
        return item

    def timeout_message(self):
        phase, waiting = self.timeout
        msg = "Timed out after %ss waiting for %s on %d device(s): %s" % (
            self.params["wait_timeout"], WAITING_FOR[phase], len(waiting),
            ", ".join("%s (%s)" % (s, st) for s, st in sorted(waiting.items())[:50]))
        if phase == "listed":
            msg += (". The devices are imported; Intune lists them after an Autopilot sync, and %s. Run the task again "
                    "later (or with a wait_timeout above 600): it waits for these devices and syncs, without importing "
                    "them again." % self.sync.told())
        elif phase == "deleted":
            msg += (". Intune accepted the deletion; deregistration can take a while, and Graph shows nothing of it, so "
                    "a re-run sends the deletion again and waits for the devices.")
        elif phase == "profile" and self.why:
            msg += ". Why: %s." % self.why
        return msg

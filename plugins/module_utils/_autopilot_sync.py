# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Autopilot sync and its 10-minute rule, for ``autopilot_device``.

Internal to this collection; it may change in any release. Facts (microsoftgraph/microsoft-graph-docs-contrib,
api-reference/beta):

* ``POST /deviceManagement/windowsAutopilotSettings/sync``: 204; 409 while a sync runs; "If this sync action is
  called within 10 minutes of the previous sync, the action returns a 429 Too Many Requests response code"
  (api/intune-enrollment-windowsautopilotsettings-sync.md, which mentions no Retry-After). The 429 is a rule, not
  throttling: a retry within the client's budget cannot succeed, so the first answer is taken (``retry_429=False``).
* ``GET /deviceManagement/windowsAutopilotSettings`` returns ``lastManualSyncTriggerDateTime`` and ``syncStatus``
  (``unknown``/``inProgress``/``completed``/``failed``: resources/intune-enrollment-windowsautopilotsettings.md,
  intune-enrollment-windowsautopilotsyncstatus.md).
* Microsoft's procedure is import, then Sync, after which the devices appear (MicrosoftDocs/memdocs
  autopilot/add-devices.md). When another run's sync went first, this run's sync is refused, and a service that lists
  devices only after a sync that started after their import would leave them unlisted: :meth:`AutopilotSync.retry`
  sends it again once Intune can accept it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import re

from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError

SYNC_PATH = "/deviceManagement/windowsAutopilotSettings/sync"
SETTINGS_PATH = "/deviceManagement/windowsAutopilotSettings"
SYNC_INTERVAL = 600.0  # the sync page's 10 minutes

GRAPH_DATE_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)?$")


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


class AutopilotSync(object):
    """The run's Autopilot syncs: sent, refused, and sent again when Intune can accept one.

    ``answers`` holds ``(seconds since start, status, error code)`` per attempt (204, 409 or 429). ``on_progress``
    receives ``("sync", counts)`` after each retry. No more than one attempt per 10 minutes follows a refusal, by the
    service's rule, and none once the caller stops asking (the devices are listed).
    """

    def __init__(self, client, budget, clock, started, on_progress=None):
        self.client, self.budget, self.clock, self.started = client, budget, clock, started
        self.on_progress = on_progress
        self.answers = []
        self.next_at = None  # after a refusal: when the module's own measure (or a Retry-After) allows one
        self.hinted = False  # next_at came from a Retry-After
        self.quiet_until = None  # no settings read and no sync before this time
        self.trust_dates = True  # False once the settings' dates allowed a sync that Intune refused

    @property
    def refusals(self):
        return sum(1 for _e, status, _c in self.answers if status != 204)

    def refused(self):
        """True when a sync was sent and Intune refused every attempt."""
        return bool(self.answers) and self.refusals == len(self.answers)

    def trigger(self):
        """Send one sync; True when accepted. 409 and 429 are recorded, not raised."""
        self.budget.wait(1)
        now = self.clock()
        elapsed = int(round(now - self.started))
        try:
            # A second sync cannot do harm (Intune answers 409 or 429): it may be sent again after a 5xx or a drop.
            self.client.post(SYNC_PATH, probe=lambda: None, retry_429=False)
        except GraphError as exc:
            if exc.status not in (409, 429):
                raise
            self.answers.append((elapsed, exc.status, exc.code or ""))
            # The sync that made Intune refuse started at or before now, so 10 minutes from now the rule allows one:
            # the module's own measure. A Retry-After (none is documented) is the service's own figure.
            self.hinted = exc.retry_after is not None
            self.next_at = now + (exc.retry_after if self.hinted else SYNC_INTERVAL)
            self.quiet_until = self.next_at if self.hinted else None
            return False
        finally:
            self.budget.spend(1)
        self.answers.append((elapsed, 204, ""))
        return True

    def _settings(self):
        """``(syncStatus, lastManualSyncTriggerDateTime in seconds or None)``, or ``(None, None)`` when unreadable."""
        try:
            body = self.client.get(SETTINGS_PATH) or {}
        except GraphError:  # the retry then goes by the module's own measure
            return None, None
        if isinstance(body.get("value"), dict):  # the get page's example wraps the object in "value"
            body = body["value"]
        return body.get("syncStatus"), graph_time(body.get("lastManualSyncTriggerDateTime"))

    def retry(self):
        """Send the refused sync again when Intune can accept it; called at each poll while devices are not listed.

        The settings tell whether a sync runs and when the last was triggered, so the sync is sent when none runs and
        10 minutes have passed since that date, sooner than 10 minutes after this run's refusal. They are read once
        after a refusal and again when that time comes (each poll while a sync runs): a sync triggered meanwhile by
        another run moves the time on, and may list the devices without another. Without the dates, or once they
        allowed a sync that was then refused (clocks apart), the module's own 10 minutes apply; a Retry-After on the
        refusal is followed as the service's figure. Returns True when a sync was sent (accepted or not).
        """
        now = self.clock()
        if not self.refused() or (self.quiet_until is not None and now < self.quiet_until):
            return False
        dated = False
        if self.trust_dates and not self.hinted:
            status, last = self._settings()
            if status == "inProgress":
                self.quiet_until = None  # that sync may list the devices; look again at the next poll
                return False
            if last is not None and now < last + SYNC_INTERVAL:
                self.quiet_until = last + SYNC_INTERVAL
                return False
            dated = last is not None
        if not dated and now < self.next_at:
            self.quiet_until = self.next_at
            return False
        if not self.trigger() and dated:
            self.trust_dates = False  # the dates said a sync could start and Intune refused it
        if self.on_progress is not None:
            counts = {}
            for _e, status, _c in self.answers:
                counts[str(status)] = counts.get(str(status), 0) + 1
            self.on_progress("sync", counts)
        return True

    def warning(self):
        """One warning for the run when none of its attempts was accepted; None when one was."""
        if not self.refused():
            return None
        elapsed, status, code = self.answers[-1]
        if len(self.answers) > 1:
            counts = {}
            for _e, each, _c in self.answers:
                counts[each] = counts.get(each, 0) + 1
            return ("Autopilot sync not started: Intune refused all %d attempts (%s), the last after %d s (409: a sync was "
                    "running; 429: within 10 minutes of the previous sync); the devices appear after a later sync." % (
                        len(self.answers), ", ".join("%d x %s" % (n, k) for k, n in sorted(counts.items())), elapsed))
        if status == 409:
            return ("Autopilot sync not started: a sync is already running (409 %s); the devices may appear when it ends, "
                    "or after a later sync." % code)
        return ("Autopilot sync not started: Intune allows one sync every 10 minutes (429 %s); the devices appear after "
                "the next sync." % code)

    def told(self):
        """What the run's syncs came to, for a message on devices that are not listed."""
        if not self.answers:
            return "this run sent no sync"
        if self.refused():
            return "Intune refused this run's sync (%s; one sync every 10 minutes, none while one runs)" % ", ".join(
                str(status) for _e, status, _c in self.answers)
        return "this run's sync was accepted"

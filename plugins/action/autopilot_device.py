# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of intune.autopilot.autopilot_device: runs the module and shows its progress while it waits.

Ansible shows nothing of a module until it ends, and the waits of autopilot_device (import, listing, profile
assignment) can take 30 minutes. The module appends each progress note, the counts per state it saw, to the file
that the environment variable INTUNE_GRAPH_PROGRESS_FILE names (GraphModule.note_progress). This plugin creates that
file on the controller, runs the module in a thread, shows each new note as one line, and a line at least every 30
seconds while nothing new arrived, so an operator (or AWX's job output) sees the run move. The module's result is
returned unchanged; the notes are in its ``progress`` too.

Only with the local connection (the Graph modules run on the controller): elsewhere the module runs as usual.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import tempfile
import threading
import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()

PROGRESS_ENV = "INTUNE_GRAPH_PROGRESS_FILE"
HEARTBEAT = 30.0  # seconds without a new note before a "still waiting" line
POLL = 1.0


def describe(note):
    """``profile after 45 s: 3 assignedInSync, 2 pending``: the phase, the seconds and the counts per state."""
    counts = note.get("counts") or {}
    shown = ", ".join("%s %s" % (n, state) for state, n in sorted(counts.items())) or "nothing yet"
    return "%s after %s s: %s" % (note.get("phase"), note.get("elapsed"), shown)


class Progress(object):
    """Reads the notes the module appended since the last look, and says what to show."""

    def __init__(self, path, host, clock=time.time):
        self.path = path
        self.host = host
        self.clock = clock
        self.offset = 0
        self.started = self.last = clock()
        self.latest = None

    def lines(self):
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        complete = data[:data.rfind(b"\n") + 1]
        self.offset += len(complete)
        found = []
        for raw in complete.splitlines():
            try:
                self.latest = json.loads(raw.decode("utf-8"))
            except ValueError:
                continue
            found.append("%s: autopilot_device %s" % (self.host, describe(self.latest)))
        now = self.clock()
        if found:
            self.last = now
        elif now - self.last >= HEARTBEAT:
            self.last = now
            found.append("%s: autopilot_device still running after %d s%s" % (
                self.host, now - self.started, "; last seen: %s" % describe(self.latest) if self.latest else ""))
        return found


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        if getattr(self._connection, "transport", None) != "local":
            result.update(self._execute_module(task_vars=task_vars))
            return result
        handle, path = tempfile.mkstemp(prefix="autopilot-device-progress-", suffix=".jsonl")
        os.close(handle)
        environment = self._task.environment
        self._task.environment = (environment if isinstance(environment, list) else [environment] if environment
                                  else []) + [{PROGRESS_ENV: path}]
        outcome = {}

        def execute():
            try:
                outcome["result"] = self._execute_module(task_vars=task_vars)
            except Exception as exc:  # pylint: disable=broad-except
                outcome["error"] = exc

        worker = threading.Thread(target=execute, name="autopilot_device")
        worker.daemon = True
        progress = Progress(path, task_vars.get("inventory_hostname", "?") if task_vars else "?")
        try:
            worker.start()
            while worker.is_alive():
                worker.join(POLL)
                for line in progress.lines():
                    display.display(line)
        finally:
            self._task.environment = environment
            os.remove(path)
        if "error" in outcome:
            raise outcome["error"]
        result.update(outcome["result"])
        return result

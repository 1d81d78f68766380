# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The progress lines the action plugin of autopilot_device shows while the module waits."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.intune.autopilot.plugins.action.autopilot_device import HEARTBEAT, Progress


class Clock(object):
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_new_notes_are_shown_once_and_a_quiet_wait_at_least_every_30_s(tmp_path):
    path = tmp_path / 'notes.jsonl'
    path.write_text('')
    clock = Clock()
    progress = Progress(str(path), 'lyon', clock=clock)
    assert progress.lines() == []
    with open(str(path), 'a') as handle:
        handle.write(json.dumps({'phase': 'import', 'elapsed': 15, 'counts': {'pending': 2, 'complete': 1}}) + '\n')
        handle.write('{"phase": "prof')  # a note the module is still writing: not read yet
    clock.now += 15
    assert progress.lines() == ['lyon: autopilot_device import after 15 s: 1 complete, 2 pending']
    clock.now += HEARTBEAT - 1
    assert progress.lines() == []
    clock.now += 1
    assert progress.lines() == ['lyon: autopilot_device still running after 45 s; last seen: import after 15 s: 1 complete, 2 pending']
    with open(str(path), 'a') as handle:
        handle.write('ile", "elapsed": 50, "counts": {"assignedInSync": 3}}\n')
    assert progress.lines() == ['lyon: autopilot_device profile after 50 s: 3 assignedInSync']

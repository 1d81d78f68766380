# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: writes every task result and the play stats as JSON Lines.

The integration harness (tests/integration/harness.py) enables it next to the default stdout callback
and points ``INTUNE_TEST_RESULTS`` at a file. One line per task result
(``{"type": "task", "play", "task", "action", "host", "status", "ignored", "result"}``) and one final
``{"type": "stats", "stats": {host: {ok, changed, failures, ...}}}``. Results are what the callback
API hands out (so ``no_log`` results are already censored), plus ``failed: true`` / ``skipped: true``
on failed / skipped results as ``register`` would show them. It is not part of the collection's plugins.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: intune_test_results
type: aggregate
short_description: Write task results as JSON Lines for the integration tests
description:
  - Writes every task result and the final stats to the file named by E(INTUNE_TEST_RESULTS).
requirements:
  - enabled in callbacks_enabled
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'intune_test_results'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._path = os.environ.get('INTUNE_TEST_RESULTS')
        self._play = None

    def _write(self, record):
        if not self._path:
            return
        with open(self._path, 'a') as handle:
            handle.write(json.dumps(record, default=repr, sort_keys=True) + '\n')

    def _task(self, result, status, ignored=False):
        data = dict(result.result)
        if status == 'ok' and data.get('changed'):
            status = 'changed'
        # ansible-core 2.19 no longer leaves ``failed``/``skipped`` in the result handed to callbacks;
        # put them back so a test sees what ``register`` would have given it.
        if status == 'failed':
            data['failed'] = True
        elif status == 'skipped':
            data['skipped'] = True
        self._write({
            'type': 'task',
            'play': self._play,
            'task': result.task.get_name(),
            'action': result.task.action,
            'host': result.host.get_name(),
            'status': status,
            'ignored': ignored,
            'result': data,
        })

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()

    def v2_runner_on_ok(self, result):
        self._task(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._task(result, 'failed', ignored=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._task(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._task(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed.keys())
        self._write({'type': 'stats', 'stats': dict((host, stats.summarize(host)) for host in hosts)})

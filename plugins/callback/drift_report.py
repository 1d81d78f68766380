# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: drift_report
type: aggregate
short_description: Write what a run of this collection would change or changed as drift.json, drift.md and drift.html
version_added: 0.1.0
description:
  - Records, for every task of this collection's modules, what it would change (C(--check)) or what it changed
    (a real run), and writes at the end of the run three files to O(report_dir) - C(drift.json) for a pipeline,
    C(drift.md) for a pull request or a ticket, C(drift.html), one self-contained page (no script, no external asset)
    with the counts at the top, then the tenant-wide objects and one section per site (inventory host), each object's
    properties before and after side by side, and the devices summarised with their list to expand.
  - "C(drift.json) is C({\"drift\": bool, \"check_mode\": bool, \"status\": \"ok\"|\"failed\"|\"interrupted\",
    \"changes\": [...], \"unmanaged\": [...], \"failures\": [...], \"summary\": {...}}). Each change is
    C({\"host\", \"task\", \"module\", \"object\", \"action\", \"properties\": {name: {\"before\", \"after\"}},
    \"tenant_wide\"}), C(object) being the display name (the serial number for a device) and C(action) one of
    C(create), C(update), C(delete); a bulk M(intune.autopilot.autopilot_device) task is listed device by device.
    Nested properties are named by their path (C(outOfBoxExperienceSetting.userType)). C(drift) is true when
    anything would change (or changed)."
  - Unmanaged objects are listed apart and never count as drift - the objects a task of the run does not manage but
    that sit where the run manages - an Enrollment Status Page or a deployment profile that an
    M(intune.autopilot.intune_esp_info) or M(intune.autopilot.autopilot_profile_info) task of the run found assigned
    (or excluded) to a group an M(intune.autopilot.aad_group) task manages, and an Autopilot device that an
    M(intune.autopilot.autopilot_device_info) task found with a managed group tag (one that the dynamic rule of a
    managed group selects, C(-eq "[OrderID]:<tag>"), or that an M(intune.autopilot.autopilot_device) task sets,
    compared without case) but whose serial number no device task asked for. Each is listed under the host whose task
    manages the group or the tag. The role C(intune.autopilot.user_driven_join) runs these reads when this callback
    is enabled.
  - Secrets never reach a report - the result of a C(no_log) task is hidden by Ansible, and the report then says only
    that the task changed something; any value under a key named like a secret (C(secret), C(password), C(token),
    ...) is masked, and so is any occurrence of the credentials in E(AZURE_CLIENT_SECRET), E(AZURE_SECRET),
    E(AZURE_CLIENT_CERTIFICATE_PASSWORD) and E(AZURE_PASSWORD).
  - A run that failed writes its report too, with C(status) C(failed), the failures, and every change seen until then;
    a run that ends before Ansible's final statistics (interrupted) writes it with C(status) C(interrupted).
  - At the end of the run one line tells the counts and where the report is.
requirements:
  - Enabled in C(callbacks_enabled) (ansible.cfg) or E(ANSIBLE_CALLBACKS_ENABLED) as C(intune.autopilot.drift_report).
author:
  - intune.autopilot contributors (@intune-autopilot)
options:
  report_dir:
    description:
      - The directory the report is written to (created when missing); C(drift.json), C(drift.md) and C(drift.html)
        in it are replaced at the end of each run.
      - A relative path is relative to the working directory of C(ansible-playbook) (in ansible.cfg, to the file's
        directory).
    type: path
    default: drift-report
    env:
      - name: INTUNE_DRIFT_REPORT_DIR
    ini:
      - section: callback_drift_report
        key: report_dir
notes:
  - The role M(intune.autopilot.user_driven_join) fails a check run that would change anything when
    C(user_driven_join_fail_on_drift) is true, whether this callback is enabled or not; see the collection's
    docs/awx.md, "Drift monitoring".
seealso:
  - module: intune.autopilot.autopilot_device
  - module: intune.autopilot.intune_esp_info
"""

EXAMPLES = r"""
# ansible.cfg next to the playbook (or the AWX project's root):
#   [defaults]
#   callbacks_enabled = intune.autopilot.drift_report
#   [callback_drift_report]
#   report_dir = reports/drift
#
# or from the shell:
#   ANSIBLE_CALLBACKS_ENABLED=intune.autopilot.drift_report INTUNE_DRIFT_REPORT_DIR=/tmp/drift \
#     ansible-playbook -i inventory/hosts.yml intune.autopilot.user_driven_join --check
#   jq '.summary' /tmp/drift/drift.json
"""

import atexit
import datetime
import json
import os

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.intune.autopilot.plugins.plugin_utils import _drift_render, _drift_report

FILES = (("drift.json", lambda report: json.dumps(report, indent=2, sort_keys=True, default=str) + "\n"),
         ("drift.md", _drift_render.to_markdown),
         ("drift.html", _drift_render.to_html))


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'intune.autopilot.drift_report'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        self._records = []
        self._playbooks = []
        self._started = None
        self._written = False
        atexit.register(self._write_if_interrupted)

    def _record(self, result, status, ignored=False):
        task = result.task
        action = task.resolved_action or task.action
        # Kept: every result of this collection's modules; of other modules, only failures (the run failed there).
        if _drift_report.module_name(action) is None and status == 'ok':
            return
        self._records.append({'host': result.host.get_name(), 'task': task.get_name(), 'action': action,
                              'status': status, 'ignored': ignored, 'run_once': bool(task.run_once),
                              'args': _drift_report.task_args(task.args), 'result': dict(result.result)})

    def v2_playbook_on_start(self, playbook):
        self._started = self._started or _now()
        self._playbooks.append(os.path.basename(playbook._file_name))

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed', ignored=ignore_errors)

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        failed = any(stats.summarize(host)['failures'] or stats.summarize(host)['unreachable'] for host in stats.processed)
        self.write('failed' if failed else 'ok')

    def _write_if_interrupted(self):
        if self._started and not self._written:
            self.write('interrupted')

    def report(self, status):
        """The report of what this run saw (see the plugin's description)."""
        return _drift_report.build(self._records, check_mode=context.CLIARGS.get('check', False), status=status,
                                   playbook=", ".join(self._playbooks) or None, started=self._started, finished=_now(),
                                   secrets=_drift_report.secrets_from(os.environ))

    def write(self, status):
        """Write drift.json, drift.md and drift.html; a failure to write is a warning, never a failed run."""
        self._written = True
        report = self.report(status)
        directory = self.get_option('report_dir')
        try:
            os.makedirs(directory, exist_ok=True)
            for name, render in FILES:
                path = os.path.join(directory, name)
                with open(path + '.tmp', 'w', encoding='utf-8') as handle:
                    handle.write(render(report))
                os.replace(path + '.tmp', path)
        except OSError as exc:
            self._display.warning('intune.autopilot.drift_report: could not write the report to %s: %s' % (directory, exc))
            return
        summary = report['summary']
        self._display.display(
            'Drift report (%s, %s): %d change(s) (%d create, %d update, %d delete; %d device(s)), %d unmanaged, '
            '%d failure(s): %s' % ('check mode' if report['check_mode'] else 'real run', status, summary['changes'],
                                   summary['create'], summary['update'], summary['delete'], summary['devices'],
                                   summary['unmanaged'], summary['failures'],
                                   os.path.join(os.path.abspath(directory), 'drift.html')))

# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift report callback (intune.autopilot.drift_report) and user_driven_join_fail_on_drift, against the emulator.

The module-scoped fixture converges the example inventory (playbooks/user_driven_join.yml), then changes the tenant
by hand through Graph, as an admin in the portal would:

* the ESP's ``installProgressTimeoutInMinutes`` 90 -> 45 (tenant-wide);
* device 5CG3281KR2's group tag BER -> BER-OLD (Berlin);
* the Lyon profile's ``locale`` fr-FR -> fr-BE (Lyon);

and adds three objects nobody in the inventory manages but that sit where it manages: a device imported with
Berlin's group tag that Berlin does not list, an ESP assigned to Berlin's device group, a profile assigned to Lyon's.

Then, with the callback enabled: a ``--check`` (the report must list exactly the three changes and the three
unmanaged objects), the same with ``user_driven_join_fail_on_drift: true`` (non-zero exit), a real run (it applies
the three changes and touches none of the unmanaged objects), and a ``--check`` with the gate again (no drift, exit 0).
What the report says is compared with the emulator's state and request log, never with the modules' own results.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from tests.integration import harness

REPO = harness.REPO_ROOT
PLAYBOOK = REPO / 'playbooks' / 'user_driven_join.yml'
INVENTORY = REPO / 'playbooks' / 'inventory' / 'example'
FAST = {'user_driven_join_poll_interval': 1, 'user_driven_join_wait_timeout': 300}
CALLBACK = {'ANSIBLE_CALLBACKS_ENABLED': 'intune_test_results,intune.autopilot.drift_report'}
ESP_NAME = 'Contoso Autopilot ESP'
LYON_PROFILE = 'User driven Entra join lyon'
EXPECTED = {
    ('berlin', True, 'intune_esp', ESP_NAME, 'update', 'installProgressTimeoutInMinutes', 45, 90),
    ('berlin', False, 'autopilot_device', '5CG3281KR2', 'update', 'group_tag', 'BER-OLD', 'BER'),
    ('lyon', False, 'autopilot_profile', LYON_PROFILE, 'update', 'locale', 'fr-BE', 'fr-FR'),
}
UNMANAGED_SERIAL = '5CG9999ZZ1'
UNMANAGED_ESP = 'Berlin pilot ESP'
UNMANAGED_PROFILE = 'Lyon kiosk profile'
EXPECTED_UNMANAGED = {
    ('berlin', 'device', UNMANAGED_SERIAL, "group tag 'BER'"),
    ('berlin', 'esp', UNMANAGED_ESP, "assigned to 'Autopilot devices - berlin'"),
    ('lyon', 'profile', UNMANAGED_PROFILE, "assigned to 'Autopilot devices - lyon'"),
}
BROWSERS = ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable')


class Graph:
    """Graph calls of our own (an admin changing the tenant by hand), with a token of the emulator's app."""

    def __init__(self, emu):
        self.emu = emu
        self.token = requests.post('%s/%s/oauth2/v2.0/token' % (emu.url, emu.tenant_id), verify=emu.ca_path, timeout=30, data={
            'grant_type': 'client_credentials', 'client_id': emu.client_id, 'client_secret': emu.client_secret,
            'scope': 'https://graph.microsoft.com/.default'}).json()['access_token']

    def call(self, method, path, body=None, api='beta'):
        response = requests.request(method, '%s/%s%s' % (self.emu.url, api, path), json=body, verify=self.emu.ca_path,
                                    timeout=30, headers={'Authorization': 'Bearer ' + self.token})
        assert response.status_code < 300, (method, path, response.status_code, response.text[:500])
        return response.json() if response.content else None

    def one(self, path, **match):
        found = [o for o in self.call('GET', path)['value'] if all(o.get(k) == v for k, v in match.items())]
        assert len(found) == 1, (path, match, found)
        return found[0]

    def group_id(self, name):
        return self.call('GET', "/groups?$filter=displayName eq '%s'" % name, api='v1.0')['value'][0]['id']


def change_by_hand(graph):
    esps = '/deviceManagement/deviceEnrollmentConfigurations'
    esp = graph.one(esps, displayName=ESP_NAME)
    graph.call('PATCH', '%s/%s' % (esps, esp['id']), {'@odata.type': esp['@odata.type'], 'installProgressTimeoutInMinutes': 45})
    profiles = '/deviceManagement/windowsAutopilotDeploymentProfiles'
    profile = graph.one(profiles, displayName=LYON_PROFILE)
    graph.call('PATCH', '%s/%s' % (profiles, profile['id']), {'@odata.type': profile['@odata.type'], 'locale': 'fr-BE'})
    devices = '/deviceManagement/windowsAutopilotDeviceIdentities'
    device = graph.one(devices, serialNumber='5CG3281KR2')
    graph.call('POST', '%s/%s/updateDeviceProperties' % (devices, device['id']), {'groupTag': 'BER-OLD'})


def add_unmanaged(graph, emu):
    """What another admin added where the inventory manages: an ESP, a profile, a device with Berlin's tag."""
    esp = graph.call('POST', '/deviceManagement/deviceEnrollmentConfigurations', {
        '@odata.type': '#microsoft.graph.windows10EnrollmentCompletionPageConfiguration', 'displayName': UNMANAGED_ESP,
        'showInstallationProgress': True, 'installProgressTimeoutInMinutes': 30})
    graph.call('POST', '/deviceManagement/deviceEnrollmentConfigurations/%s/assign' % esp['id'], {
        'enrollmentConfigurationAssignments': [{'target': {
            '@odata.type': '#microsoft.graph.groupAssignmentTarget', 'groupId': graph.group_id('Autopilot devices - berlin')}}]})
    profile = graph.call('POST', '/deviceManagement/windowsAutopilotDeploymentProfiles', {
        '@odata.type': '#microsoft.graph.azureADWindowsAutopilotDeploymentProfile', 'displayName': UNMANAGED_PROFILE,
        'locale': 'fr-FR', 'outOfBoxExperienceSetting': {'deviceUsageType': 'shared', 'userType': 'standard'}})
    graph.call('POST', '/deviceManagement/windowsAutopilotDeploymentProfiles/%s/assignments' % profile['id'], {
        'target': {'@odata.type': '#microsoft.graph.groupAssignmentTarget', 'groupId': graph.group_id('Autopilot devices - lyon')}})
    graph.call('POST', '/deviceManagement/importedWindowsAutopilotDeviceIdentities', {
        'serialNumber': UNMANAGED_SERIAL, 'groupTag': 'BER',
        'hardwareIdentifier': base64.b64encode(hashlib.sha512(UNMANAGED_SERIAL.encode()).digest() * 2).decode()})
    for _attempt in range(30):
        emu.advance(5)
        if [d for d in graph.call('GET', '/deviceManagement/windowsAutopilotDeviceIdentities')['value']
                if d['serialNumber'] == UNMANAGED_SERIAL]:
            return {'esp': esp['id'], 'profile': profile['id']}
        time.sleep(0.2)
    raise AssertionError('the unmanaged device was never listed')


class Scenario:
    def __init__(self, emu, collections, workdir):
        self.emu = emu
        self.collections = collections
        self.workdir = Path(workdir)
        self.inventory = self.workdir / 'inventory'
        shutil.copytree(str(INVENTORY), str(self.inventory))
        self.runs = {}

    def run(self, name, check=False, extra_vars=None, callback=True):
        report_dir = self.workdir / ('report-' + name)
        env = dict(CALLBACK, INTUNE_DRIFT_REPORT_DIR=str(report_dir)) if callback else {}
        mark = self.emu.mark()
        result = harness.run_playbook(PLAYBOOK, emulator=self.emu, collections_path=self.collections, check=check,
                                      inventory=self.inventory / 'hosts.yml', extra_vars=dict(FAST, **(extra_vars or {})),
                                      env_extra=env)
        self.runs[name] = {'result': result, 'writes': self.emu.writes_since(mark), 'dir': report_dir,
                           'state': self.emu.state()}
        return result

    def report(self, name):
        return json.loads((self.runs[name]['dir'] / 'drift.json').read_text())


@pytest.fixture(scope='module')
def scenario(tmp_path_factory, collections_path):
    emu = harness.start_emulator('--import-delay', '1', workdir=tmp_path_factory.mktemp('drift-emulator'))
    try:
        emu.control('PATCH', 'settings', {'profile_assignment_delay': 1})
        s = Scenario(emu, collections_path, tmp_path_factory.mktemp('drift'))
        s.run('converge', callback=False).assert_ok()
        graph = Graph(emu)
        change_by_hand(graph)
        s.unmanaged_ids = add_unmanaged(graph, emu)
        s.run('check', check=True)
        # awx_job_id: AWX puts it among every job's extra vars; the role then attaches its summary with set_stats.
        s.run('gate', check=True, extra_vars={'user_driven_join_fail_on_drift': True, 'awx_job_id': 42})
        s.run('real')
        s.run('check_again', check=True, extra_vars={'user_driven_join_fail_on_drift': True})
        yield s
    finally:
        emu.stop()


def flat(report):
    """(host, tenant_wide, module, object, action, property, before, after) of every change in drift.json."""
    return set((c['host'], c['tenant_wide'], c['module'], c['object'], c['action'], name, v['before'], v['after'])
               for c in report['changes'] for name, v in c['properties'].items())


def unmanaged(report):
    return set((u['host'], u['kind'], u['object'], u['where']) for u in report['unmanaged'])


def test_check_lists_exactly_the_hand_changes(scenario):
    run = scenario.runs['check']
    run['result'].assert_ok()
    assert run['writes'] == []
    report = scenario.report('check')
    assert (report['drift'], report['check_mode'], report['status']) == (True, True, 'ok')
    assert flat(report) == EXPECTED
    assert len(report['changes']) == 3
    assert report['failures'] == []
    assert (report['summary']['changes'], report['summary']['update'], report['summary']['devices']) == (3, 3, 1)
    assert report['summary']['hosts'] == {'berlin': {'changes': 2, 'unmanaged': 2, 'failures': 0},
                                          'lyon': {'changes': 1, 'unmanaged': 1, 'failures': 0}}
    assert 'Drift report (check mode, ok): 3 change(s)' in run['result'].stdout


def test_check_lists_the_unmanaged_objects(scenario):
    report = scenario.report('check')
    assert unmanaged(report) == EXPECTED_UNMANAGED
    ids = dict((u['kind'], u['id']) for u in report['unmanaged'])
    assert (ids['esp'], ids['profile']) == (scenario.unmanaged_ids['esp'], scenario.unmanaged_ids['profile'])


class Changes(HTMLParser):
    """(object, property, before, after) of every body row of drift.html: the rows of an object card's property
    table (the object is the card's name) and of the device table (the object is the row's serial)."""

    def __init__(self):
        super().__init__()
        self.found = set()
        self.in_details = False
        self.object = self._serial = None
        self._name = self._body = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        css = dict(attrs).get('class')
        if tag == 'span' and css == 'name':
            self._name = []
        elif tag == 'details':
            self.in_details, self._serial = True, None
        elif tag == 'tbody':
            self._body = True
        elif tag == 'tr' and self._body:
            self._row = []
        elif tag in ('td', 'th') and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == 'span' and self._name is not None:
            self.object, self._name = ''.join(self._name), None
        elif tag == 'details':
            self.in_details = False
        elif tag == 'tbody':
            self._body = None
        elif tag in ('td', 'th') and self._cell is not None:
            self._row.append(''.join(self._cell).strip())
            self._cell = None
        elif tag == 'tr' and self._row is not None:
            row, self._row = self._row, None
            if self.in_details and len(row) == 5:
                self._serial = row[0]
                self.found.add((row[0],) + tuple(row[2:]))
            elif self.in_details and len(row) == 3:
                self.found.add((self._serial,) + tuple(row))
            elif not self.in_details and len(row) == 3 and self.object:
                self.found.add((self.object,) + tuple(row))

    def handle_data(self, data):
        for part in (self._name, self._cell):
            if part is not None:
                part.append(data)


def html_changes(page):
    """The object and device rows of drift.html (the counts and Unmanaged tables have other widths)."""
    parser = Changes()
    parser.feed(page)
    return parser.found


def md_changes(markdown):
    """(object, property, before, after) of every property row of drift.md (objects and devices)."""
    found, current, devices = set(), None, False
    for line in markdown.splitlines():
        heading = re.match(r'^### would \w+ \S+ `(.*)`$', line)
        if heading or line.startswith('### Devices:'):
            current, devices = (heading.group(1) if heading else None), not heading
            continue
        if line.startswith('#'):
            current, devices = None, False
        cells = [c.strip().strip('`') for c in line.strip().strip('|').split('|')] if line.startswith('|') else []
        if not cells or cells[0] in ('property', 'serial', '---'):
            continue
        if devices and len(cells) == 5:
            found.add((cells[0],) + tuple(cells[2:]))
        elif current and len(cells) == 3:
            found.add((current,) + tuple(cells))
    return found


def expected_rows():
    return set((obj, prop, str(before), str(after)) for _h, _t, _m, obj, _a, prop, before, after in EXPECTED)


def test_markdown_and_html_hold_the_same(scenario):
    directory = scenario.runs['check']['dir']
    markdown = (directory / 'drift.md').read_text()
    page = (directory / 'drift.html').read_text()
    assert md_changes(markdown) == expected_rows()
    assert html_changes(page) == expected_rows()
    for obj in (UNMANAGED_SERIAL, UNMANAGED_ESP, UNMANAGED_PROFILE):
        assert obj in markdown and obj in page
    # Nothing else: the sites' unchanged objects do not appear.
    for other in ('User driven Entra join berlin', '5CG3281KQ7', 'PF4KX2L9'):
        assert other not in markdown and other not in page
    # Self-contained: no script, no link or image to load, no stylesheet import.
    assert '<script' not in page and not re.search(r'(src|href)="(?!#)', page) and 'url(' not in page and '@import' not in page


def test_fail_on_drift_fails_the_check_with_the_counts(scenario):
    run = scenario.runs['gate']
    result = run['result']
    assert result.rc != 0
    assert run['writes'] == []
    gate = [t for t in result.tasks if t['status'] == 'failed']
    assert [t['task'].split(' : ', 1)[-1] for t in gate] == [
        'Fail the check when the tenant differs from the inventory (user_driven_join_fail_on_drift)']
    message = gate[0]['result']['msg']
    assert message.startswith('Drift: 3 change(s) would be made to the tenant (tenant-wide: 1 esp; berlin: 1 devices; '
                              'lyon: 1 profile).'), message
    stats = [t['result'] for t in result.tasks if t['action'] == 'ansible.builtin.set_stats']
    assert [s['ansible_stats'] for s in stats] == [{'aggregate': False, 'per_host': False, 'data': {'intune_autopilot_drift': {
        'check_mode': True, 'drift': True, 'changes': 3, 'tenant': {'group': 0, 'esp': 1},
        'sites': {'berlin': {'group': 0, 'profile': 0, 'devices': 1, 'users': 0},
                  'lyon': {'group': 0, 'profile': 1, 'devices': 0, 'users': 0}}}}}]
    report = scenario.report('gate')
    assert (report['drift'], report['status']) == (True, 'failed')
    assert flat(report) == EXPECTED
    assert [f['message'] for f in report['failures']] == [message]


def test_real_run_applies_the_changes_and_leaves_the_unmanaged_alone(scenario):
    run = scenario.runs['real']
    run['result'].assert_ok()
    report = scenario.report('real')
    assert (report['drift'], report['check_mode'], report['status']) == (True, False, 'ok')
    assert flat(report) == EXPECTED
    assert unmanaged(report) == EXPECTED_UNMANAGED
    sets = run['state']['sets']
    esp = [e for e in sets['deviceEnrollmentConfigurations'].values() if e.get('displayName') == ESP_NAME][0]
    profile = [p for p in sets['windowsAutopilotDeploymentProfiles'].values() if p['displayName'] == LYON_PROFILE][0]
    devices = dict((d['serialNumber'], d) for d in sets['windowsAutopilotDeviceIdentities'].values())
    assert (esp['installProgressTimeoutInMinutes'], profile['locale'], devices['5CG3281KR2']['groupTag']) == (90, 'fr-FR', 'BER')
    # Never touched: no write names an unmanaged object, and they are as they were.
    untouched = [scenario.unmanaged_ids['esp'], scenario.unmanaged_ids['profile'], devices[UNMANAGED_SERIAL]['id']]
    assert [w['path'] for w in run['writes'] if any(i in w['path'] for i in untouched)] == []
    assert devices[UNMANAGED_SERIAL]['groupTag'] == 'BER'
    assert sets['windowsAutopilotDeploymentProfiles'][scenario.unmanaged_ids['profile']]['displayName'] == UNMANAGED_PROFILE


def test_next_check_reports_no_drift_and_exits_zero(scenario):
    run = scenario.runs['check_again']
    run['result'].assert_ok()
    assert run['writes'] == []
    report = scenario.report('check_again')
    assert (report['drift'], report['changes'], report['status']) == (False, [], 'ok')
    assert report['summary']['changes'] == 0
    # Unmanaged objects stay listed, and are not drift.
    assert unmanaged(report) == EXPECTED_UNMANAGED
    page = (run['dir'] / 'drift.html').read_text()
    assert 'No drift: the tenant matches the inventory' in page
    assert '**No drift: the tenant matches the inventory**' in (run['dir'] / 'drift.md').read_text()


def test_without_the_callback_the_role_reads_nothing_more(scenario):
    """The drift step's reads run only for the callback: the converge run (no callback) made none of them."""
    names = [t['task'] for t in scenario.runs['converge']['result'].tasks if 'drift report' in t['task']]
    assert names and all(t['status'] == 'skipped' for t in scenario.runs['converge']['result'].tasks
                         if 'drift report' in t['task'])


def browser():
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def test_html_page_in_a_headless_browser(scenario, tmp_path):
    path = browser()
    if not path:
        pytest.skip('no headless browser found (%s); on Debian: apt-get install -y chromium' % ', '.join(BROWSERS))
    page = scenario.runs['check']['dir'] / 'drift.html'
    flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
             '--disable-sync', '--no-first-run', '--user-data-dir=%s' % (tmp_path / 'profile')]
    dom = subprocess.run([path] + flags + ['--dump-dom', page.as_uri()], capture_output=True, text=True, timeout=120,
                         check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'Drift: 3 changes would be made' in dom.stdout
    assert html_changes(dom.stdout) == expected_rows()
    assert re.search(r'<details class="devices"><summary>Devices: 1 to update</summary>', dom.stdout)
    shot = tmp_path / 'drift.png'
    done = subprocess.run([path] + flags + ['--window-size=1280,900', '--screenshot=%s' % shot, page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and shot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n', done.stderr[-2000:]


FAILING_PLAY = """
- name: A run that fails half way
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Group created before the failure
      intune.autopilot.aad_group:
        display_name: Drift failed run group
        description: created before the failure
    - name: Group with no_log
      intune.autopilot.aad_group:
        display_name: Drift quiet group
        description: value behind no_log
      no_log: true
    - name: A failure that names the secret
      ansible.builtin.fail:
        msg: "the secret is {{ lookup('ansible.builtin.env', 'AZURE_CLIENT_SECRET') }}"
      ignore_errors: true
    - name: Profile the service refuses to create
      intune.autopilot.autopilot_profile:
        display_name: Drift refused profile
        max_retries: 0
    - name: Never reached
      intune.autopilot.aad_group:
        display_name: Drift never reached
"""


def test_a_failed_run_says_so_keeps_what_it_saw_and_shows_no_secret(emulator, collections_path, tmp_path):
    emulator.reset()
    emulator.control('POST', 'faults', {'rules': [
        {'method': 'POST', 'path': '/deviceManagement/windowsAutopilotDeploymentProfiles', 'fault': '503', 'count': -1}]})
    try:
        result = harness.run_playbook(FAILING_PLAY, emulator=emulator, collections_path=collections_path,
                                      env_extra=dict(CALLBACK, INTUNE_DRIFT_REPORT_DIR=str(tmp_path / 'report')))
    finally:
        emulator.control('DELETE', 'faults')
    assert result.rc != 0
    report = json.loads((tmp_path / 'report' / 'drift.json').read_text())
    assert (report['status'], report['check_mode'], report['drift']) == ('failed', False, True)
    assert [(c['object'], c['action'], c.get('censored', False)) for c in report['changes']] == [
        ('Drift failed run group', 'create', False), (None, 'unknown', True)]
    assert report['changes'][0]['properties']['description'] == {'before': None, 'after': 'created before the failure'}
    failures = dict((f['task'], f) for f in report['failures'])
    assert sorted(failures) == ['A failure that names the secret', 'Profile the service refuses to create']
    assert (failures['A failure that names the secret']['message'], failures['A failure that names the secret']['ignored']) == (
        'the secret is ********', True)
    refused = failures['Profile the service refuses to create']
    assert (refused['module'], refused['object']) == ('autopilot_profile', 'Drift refused profile')
    assert refused['message'].startswith("Failed to create profile 'Drift refused profile': serviceNotAvailable: ")
    # What the report says was created is in the tenant; what it never reached is not.
    names = set(g['displayName'] for g in emulator.state()['sets']['groups'].values())
    assert {'Drift failed run group', 'Drift quiet group'} <= names and 'Drift never reached' not in names
    for name in ('drift.json', 'drift.md', 'drift.html'):
        text = (tmp_path / 'report' / name).read_text()
        harness.assert_no_secret(text, emulator.client_secret)
        harness.assert_no_token(text)
        assert 'Drift quiet group' not in text and 'value behind no_log' not in text
    assert 'The run failed.' in (tmp_path / 'report' / 'drift.md').read_text()
    assert 'The run failed.' in (tmp_path / 'report' / 'drift.html').read_text()


def test_ansible_doc_renders_the_callback(collections_path):
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith('ANSIBLE_'))
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_NOCOLOR='1')
    command = [str(harness.ansible_playbook_command()[0]).replace('ansible-playbook', 'ansible-doc'), '-t', 'callback']
    shown = subprocess.run(command + ['intune.autopilot.drift_report'], capture_output=True, text=True, env=env,
                           timeout=120, check=False)
    assert shown.returncode == 0, shown.stderr
    for text in ('report_dir', 'INTUNE_DRIFT_REPORT_DIR', 'callback_drift_report', 'drift.json', 'unmanaged'):
        assert text in shown.stdout, text
    listed = subprocess.run(command + ['--list', 'intune.autopilot'], capture_output=True, text=True, env=env,
                            timeout=120, check=False)
    assert 'intune.autopilot.drift_report' in listed.stdout, listed.stdout + listed.stderr

# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proof under faults (issue 9): the sequence converges through throttling and injected errors, nothing lost or twice.

Every test starts its own emulator (``start_emulator``, safe under ``-n``) and checks the emulator's state and
request log, not what the modules say about themselves.

* The role with the example inventory under ``--throttle`` (tightened limits, so 429s really happen) plus a 10 %
  seeded random fault rate and one scripted fault of every kind the emulator has, compared with the tenant a
  fault-free run leaves (normalized: names, settings, assignments by group name, devices by serial; no ids, no
  timestamps). A second faulty run changes nothing and sends no write.
* The duplicate-makers, each its own test: a 500 or a dropped connection after a create was applied (aad_group,
  autopilot_profile, intune_esp); a 429 on ``import``; a 429 without ``Retry-After`` (backoff, visible warning);
  replication delay longer than the first look after a create; an Autopilot sync refused with 429 or 409.
* A wait that times out names the serials and what was last seen; a re-run with a longer timeout picks up the
  same import (no second ``import`` POST).
* The retry policy is documented (README link, connection doc fragment) and visible: each retry warns
  ``Retrying <method> <path>: <reason>, attempt n of m, waiting s``.

Seeds: ``FAULT_SEED`` (environment ``INTUNE_FAULT_SEED`` overrides it) is printed in the figures table and in
every assertion message of the big run, so a failure can be replayed with the same seed. Figures (faults
injected, throttled answers, retries, seconds) are printed at the end of the run by conftest_faults.py.
"""

import base64
import json
import os
import re
import time

import pytest
import requests

from tests.integration import harness
from tests.integration.conftest_faults import record

REPO = harness.REPO_ROOT
PLAYBOOK = REPO / 'playbooks' / 'user_driven_join.yml'
INVENTORY = REPO / 'playbooks' / 'inventory' / 'example' / 'hosts.yml'
FAULT_SEED = int(os.environ.get('INTUNE_FAULT_SEED', '20260309'))
FAULT_RATE = 0.1
# Every kind the emulator injects at random, plus the Retry-After variants of 503/504 (behaviours.py).
RANDOM_KINDS = ['429', '429-no-retry-after', '500', '502', '503', '504', 'slow', 'drop',
                '503-retry-after', '504-retry-after']
AFTER_KINDS = ['500-after', 'drop-after']
ROLE_VARS = {'user_driven_join_poll_interval': 1, 'user_driven_join_wait_timeout': 300}
# Intune's limits are 100 writes / 1,000 requests per 20 s per app; the example inventory sends far fewer, so the
# window is narrowed until the role is really throttled (Retry-After then stays at a few seconds).
TIGHT_THROTTLE = {'throttle_window': 6, 'throttle_writes': 3, 'throttle_requests': 20}
# Reads the role makes, one per scripted fault kind (paths without the version prefix, as the rules match them).
ROLE_READS = ['/groups', '/deviceManagement/deviceEnrollmentConfigurations',
              '/deviceManagement/windowsAutopilotDeploymentProfiles',
              '/deviceManagement/windowsAutopilotDeviceIdentities',
              '/deviceManagement/importedWindowsAutopilotDeviceIdentities', '/groups/*',
              '/deviceManagement/deviceEnrollmentConfigurations/*',
              '/deviceManagement/windowsAutopilotDeploymentProfiles/*',
              '/users/*',   # a $batch item (autopilot_device resolves assigned users in one $batch)
              '/deviceManagement/windowsAutopilotDeviceIdentities']   # the second read of the devices
SERIALS = {'5CG3281KQ7', '5CG3281KR2', '5CG3294LM8', 'PF4KX2L9', 'PF4KX3M1'}
RETRY_RE = re.compile(r'^Retrying (GET|POST|PATCH|PUT|DELETE) (/\S+): (.+), attempt (\d+) of (\d+), waiting (\d+\.\d) s')


# --------------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------------

def start(start_emulator, *args, settings=None):
    emu = start_emulator('--import-delay', '1', *args)
    emu.control('PATCH', 'settings', dict({'profile_assignment_delay': 1}, **(settings or {})))
    return emu


def configure_faults(emu, **config):
    """``POST /_emulator/faults`` with short waits (injected Retry-After 1 s, slow answers 1.5 s)."""
    body = {'retry_after': 1, 'slow_ms': 1500}
    body.update(config)
    return emu.control('POST', 'faults', body)


def fault_counters(emu):
    data = emu.control('GET', 'faults')
    return data.get('injected') or {}, data.get('throttled') or 0


def rule(method, path, fault, count=1, **extra):
    return dict({'method': method, 'path': path, 'fault': fault, 'count': count}, **extra)


def run_role(emu, collections_path, **kwargs):
    extra = dict(ROLE_VARS)
    extra.update(kwargs.pop('extra_vars', None) or {})
    env = {'INTUNE_GRAPH_STATS': '1', 'ANSIBLE_FORKS': '1'}  # one fork: the same seed replays the same order
    env.update(kwargs.pop('env_extra', None) or {})
    return harness.run_playbook(PLAYBOOK, emulator=emu, collections_path=collections_path, inventory=INVENTORY,
                                extra_vars=extra, env_extra=env, **kwargs)


def run_tasks(emu, collections_path, tasks, **kwargs):
    """A one-play playbook on localhost with ``tasks`` (YAML list text)."""
    playbook = '- hosts: localhost\n  gather_facts: false\n  tasks:\n' + ''.join(
        '    ' + line + '\n' for line in tasks.strip('\n').splitlines())
    return harness.run_playbook(playbook, emulator=emu, collections_path=collections_path,
                                env_extra={'INTUNE_GRAPH_STATS': '1'}, **kwargs)


def warnings_of(result):
    return [w for t in result.tasks for w in (t['result'].get('warnings') or [])]


def retries_of(result):
    return sum((t['result'].get('graph_stats') or {}).get('retries', 0) for t in result.tasks)


def objects(state, kind):
    return list(state['sets'].get(kind, {}).values())


def named(state, kind, name):
    return [o for o in objects(state, kind) if o.get('displayName') == name]


def sent(emu, method, path_glob):
    """Request-log entries (outer requests and $batch items) whose method and path (no query) match."""
    pattern = re.compile('^' + re.escape(path_glob).replace(r'\*', '.*') + '$')
    return [e for e in emu.log_entries() if e.get('method') == method and pattern.match(e['path'].split('?', 1)[0])]


def graph(emu, method, path, body=None):
    """A Graph call with a token of our own (not through the collection)."""
    token = requests.post('%s/%s/oauth2/v2.0/token' % (emu.url, emu.tenant_id), verify=emu.ca_path, timeout=30, data={
        'grant_type': 'client_credentials', 'client_id': emu.client_id, 'client_secret': emu.client_secret,
        'scope': 'https://graph.microsoft.com/.default'}).json()['access_token']
    return requests.request(method, '%s/beta%s' % (emu.url, path), json=body, verify=emu.ca_path, timeout=30,
                            headers={'Authorization': 'Bearer ' + token})


def normalized_tenant(state):
    """What the role manages, as names and values: no ids, no timestamps, no bookkeeping.

    Lists, not sets, sorted: an object present twice shows twice. Group ids are replaced by group names and
    profile ids by profile names, so two tenants built by different runs compare equal when they hold the
    same things.
    """
    groups = dict((g['id'], g['displayName']) for g in objects(state, 'groups'))
    profiles = dict((p['id'], p['displayName']) for p in objects(state, 'windowsAutopilotDeploymentProfiles'))
    dropped = ('id', 'version', 'securityIdentifier', 'azureActiveDirectoryDeviceId', 'azureAdDeviceId', 'deviceId')

    def plain(obj):
        return dict((k, v) for k, v in obj.items()
                    if not k.startswith('_') and k not in dropped and not k.endswith('DateTime'))

    def assignments(obj):
        raw = obj.get('_assignments') or []
        raw = list(raw.values()) if isinstance(raw, dict) else raw
        return sorted('%s:%s' % (a['target'].get('@odata.type'), groups.get(a['target'].get('groupId'), a['target'].get('groupId')))
                      for a in raw)

    def rows(kind, shape):
        return sorted(json.dumps(shape(o), sort_keys=True) for o in objects(state, kind))

    return {
        'groups': rows('groups', plain),
        'enrollment configurations': rows('deviceEnrollmentConfigurations',
                                          lambda o: dict(plain(o), assignments=assignments(o))),
        'deployment profiles': rows('windowsAutopilotDeploymentProfiles',
                                    lambda o: dict(plain(o), assignments=assignments(o))),
        'autopilot devices': rows('windowsAutopilotDeviceIdentities', lambda o: dict(
            plain(o), profile=profiles.get(o.get('_intended'), o.get('_intended')))),
        'entra devices': rows('devices', lambda o: dict(
            plain(o), physicalIds=sorted(p for p in o.get('physicalIds', []) if not p.startswith('[ZTDId]')))),
        'import records': rows('importedWindowsAutopilotDeviceIdentities', plain),
    }


def duplicates(state):
    """``{kind: [names present more than once]}`` for the sets the role writes."""
    found = {}
    for kind, key in (('groups', 'displayName'), ('deviceEnrollmentConfigurations', 'displayName'),
                      ('windowsAutopilotDeploymentProfiles', 'displayName'),
                      ('windowsAutopilotDeviceIdentities', 'serialNumber'), ('devices', 'displayName')):
        names = [o.get(key) for o in objects(state, kind) if o.get('@odata.type', '').endswith(
            'windows10EnrollmentCompletionPageConfiguration') or kind != 'deviceEnrollmentConfigurations']
        twice = sorted(set(n for n in names if names.count(n) > 1))
        if twice:
            found[kind] = twice
    return found


# --------------------------------------------------------------------------------------------------------------
# 1. the whole sequence under throttling and random faults
# --------------------------------------------------------------------------------------------------------------

def test_role_converges_under_throttling_and_faults_like_a_fault_free_run(start_emulator, collections_path, request):
    seed = FAULT_SEED
    clean_emu = start(start_emulator)
    clean = run_role(clean_emu, collections_path)
    clean.assert_ok()
    reference = normalized_tenant(clean_emu.state())
    assert duplicates(clean_emu.state()) == {}
    assert sorted(json.loads(d)['serialNumber'] for d in reference['autopilot devices']) == sorted(SERIALS)

    emu = start(start_emulator, '--throttle', '--seed', seed, settings=TIGHT_THROTTLE)
    # One scripted fault of every kind (so each kind is met whatever the draw), each on a different read of the
    # role so that no single request gets them all in a row, then 10 % at random.
    scripted = [rule('GET', path, kind) for path, kind in zip(ROLE_READS, RANDOM_KINDS)] + [
        rule('POST', '/groups', '500-after'),
        rule('POST', '/deviceManagement/windowsAutopilotDeploymentProfiles', 'drop-after'),
        rule('POST', '/deviceManagement/deviceEnrollmentConfigurations', '500-after'),
        rule('POST', '/deviceManagement/importedWindowsAutopilotDeviceIdentities/import', 'drop-after'),
    ]
    configure_faults(emu, rate=FAULT_RATE, seed=seed, kinds=RANDOM_KINDS, rules=scripted)
    started = time.monotonic()
    first = run_role(emu, collections_path)
    seconds = time.monotonic() - started
    injected, throttled = fault_counters(emu)
    retries = retries_of(first)
    why = 'seed %s (replay: INTUNE_FAULT_SEED=%s); injected %s, throttled %s' % (seed, seed, injected, throttled)
    first.assert_ok()
    state = emu.state()
    assert duplicates(state) == {}, why
    faulty = normalized_tenant(state)
    for kind in reference:
        assert faulty[kind] == reference[kind], '%s differ after the faulty run; %s' % (kind, why)
    assert set(RANDOM_KINDS + AFTER_KINDS) <= set(injected), 'kinds not injected: %s; %s' % (
        sorted(set(RANDOM_KINDS + AFTER_KINDS) - set(injected)), why)
    assert throttled > 0, 'the tightened throttle never answered 429; %s' % why
    assert retries > 0 and any(RETRY_RE.match(w) for w in warnings_of(first)), why

    mark = emu.mark()
    started = time.monotonic()
    second = run_role(emu, collections_path)
    seconds_second = time.monotonic() - started
    injected_after, throttled_after = fault_counters(emu)
    second.assert_ok()
    assert second.changed == 0, '%s; %s' % ([(t['host'], t['task']) for t in second.tasks if t['status'] == 'changed'], why)
    writes = emu.writes_since(mark)
    assert writes == [], '%s; %s' % ([(w['method'], w['path'], w.get('status')) for w in writes], why)
    assert normalized_tenant(emu.state()) == faulty
    second_faults = dict((k, v - injected.get(k, 0)) for k, v in injected_after.items() if v - injected.get(k, 0))
    assert sum(second_faults.values()) > 0, 'the second run met no fault: it proves nothing; %s' % why

    record(request, 'role, example inventory: faulty run 1', injected, throttled, retries, seconds, seed)
    record(request, 'role, example inventory: faulty run 2 (no change)', second_faults, throttled_after - throttled,
           retries_of(second), seconds_second, seed)


# --------------------------------------------------------------------------------------------------------------
# 2. the cases that make duplicates elsewhere
# --------------------------------------------------------------------------------------------------------------

GROUP_TASK = '''
- name: Group
  intune.autopilot.aad_group:
    display_name: Autopilot devices
    all_autopilot_devices: true
'''
PROFILE_TASK = '''
- name: Profile
  intune.autopilot.autopilot_profile:
    display_name: User driven Entra join
    locale: de-DE
    out_of_box_experience_setting:
      device_usage_type: singleUser
      user_type: standard
'''
ESP_TASK = '''
- name: ESP
  intune.autopilot.intune_esp:
    display_name: Contoso Autopilot ESP
    show_installation_progress: true
    install_progress_timeout_in_minutes: 90
'''
CREATES = {
    'aad_group': (GROUP_TASK, '/groups', 'groups', 'Autopilot devices'),
    'autopilot_profile': (PROFILE_TASK, '/deviceManagement/windowsAutopilotDeploymentProfiles',
                          'windowsAutopilotDeploymentProfiles', 'User driven Entra join'),
    'intune_esp': (ESP_TASK, '/deviceManagement/deviceEnrollmentConfigurations', 'deviceEnrollmentConfigurations',
                   'Contoso Autopilot ESP'),
}


@pytest.mark.parametrize('fault', AFTER_KINDS)
@pytest.mark.parametrize('module', sorted(CREATES))
def test_create_applied_but_answer_lost_makes_exactly_one_object(start_emulator, collections_path, request, module, fault):
    task, path, kind, name = CREATES[module]
    emu = start(start_emulator)
    configure_faults(emu, rules=[rule('POST', path, fault)])
    started = time.monotonic()
    result = run_tasks(emu, collections_path, task)
    seconds = time.monotonic() - started
    result.assert_ok()
    state = emu.state()
    assert len(named(state, kind, name)) == 1, '%d %s named %r after a %s' % (len(named(state, kind, name)), kind, name, fault)
    posts = sent(emu, 'POST', '/*' + path)
    assert len(posts) == 1 and posts[0].get('fault') == fault, [(p['path'], p.get('status'), p.get('fault')) for p in posts]
    warnings = warnings_of(result)
    assert any(RETRY_RE.match(w) and w.endswith('(checking first whether it was applied)') for w in warnings), warnings
    assert any('was applied despite the' in w and 'not sending it again' in w for w in warnings), warnings
    assert result.tasks[-1]['result'].get('changed') is True
    injected, throttled = fault_counters(emu)
    record(request, '%s: %s after the create' % (module, fault), injected, throttled, retries_of(result), seconds)


@pytest.mark.parametrize('module', sorted(CREATES))
def test_create_refused_by_5xx_is_sent_again_once(start_emulator, collections_path, request, module):
    """The other side of the probe: a 503 that applied nothing ends with one object too (not zero).

    aad_group looks for the group for up to ``wait_timeout`` seconds before it sends the create again (replication
    delay, see the next tests); 8 s here instead of the default 120 keeps the test short."""
    task, path, kind, name = CREATES[module]
    if module == 'aad_group':
        task = task.rstrip('\n') + '\n    wait_timeout: 8\n'
    emu = start(start_emulator)
    configure_faults(emu, rules=[rule('POST', path, '503')])
    started = time.monotonic()
    result = run_tasks(emu, collections_path, task)
    result.assert_ok()
    assert len(named(emu.state(), kind, name)) == 1
    assert [p.get('status') for p in sent(emu, 'POST', '/*' + path)] == [503, 201]
    injected, throttled = fault_counters(emu)
    record(request, '%s: 503 on the create (not applied)' % module, injected, throttled, retries_of(result),
           time.monotonic() - started)


def device_task(serials, wait_for='imported', wait_timeout=120, extra=''):
    devices = ''.join('\n      - serial_number: "%s"\n        hardware_identifier: "%s"' % (
        s, base64.b64encode(('hardware hash of %s' % s).encode() * 4).decode()) for s in serials)
    return '''
- name: Devices
  intune.autopilot.autopilot_device:
    group_tag: FLT
    wait_for: %s
    wait_timeout: %d
    poll_interval: 1%s
    devices:%s
''' % (wait_for, wait_timeout, extra, devices)


def test_import_throttled_is_sent_again_and_imports_once(start_emulator, collections_path, request):
    emu = start(start_emulator)
    configure_faults(emu, rules=[rule('POST', '*/importedWindowsAutopilotDeviceIdentities/import', '429')])
    started = time.monotonic()
    result = run_tasks(emu, collections_path, device_task(['FLT-0001', 'FLT-0002']))
    result.assert_ok()
    state = emu.state()
    serials = sorted(d['serialNumber'] for d in objects(state, 'windowsAutopilotDeviceIdentities'))
    assert serials == ['FLT-0001', 'FLT-0002']
    imports = sent(emu, 'POST', '/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities/import')
    assert [(e.get('status'), e.get('fault')) for e in imports] == [(429, '429'), (200, None)]
    assert objects(state, 'importedWindowsAutopilotDeviceIdentities') == []
    warnings = warnings_of(result)
    assert any(w.startswith('Retrying POST /beta/deviceManagement/importedWindowsAutopilotDeviceIdentities/import: '
                            '429 TooManyRequests, attempt 2 of 6, waiting 1.0 s') for w in warnings), warnings
    injected, throttled = fault_counters(emu)
    record(request, 'autopilot_device: 429 on import', injected, throttled, retries_of(result), time.monotonic() - started)


def test_429_without_retry_after_backs_off_and_says_so(start_emulator, collections_path, request):
    """No Retry-After: exponential backoff (first wait 1-2 s), on a read and on a create, one warning each."""
    emu = start(start_emulator)
    configure_faults(emu, rules=[rule('GET', '/groups', '429-no-retry-after'),
                                 rule('POST', '/groups', '429-no-retry-after')])
    started = time.monotonic()
    result = run_tasks(emu, collections_path, GROUP_TASK)
    result.assert_ok()
    assert len(named(emu.state(), 'groups', 'Autopilot devices')) == 1
    retried = [RETRY_RE.match(w) for w in warnings_of(result)]
    retried = [m for m in retried if m]
    assert [(m.group(1), m.group(2), m.group(3)) for m in retried] == [
        ('GET', '/v1.0/groups', '429 TooManyRequests'), ('POST', '/v1.0/groups', '429 TooManyRequests')]
    for match in retried:
        assert 1.0 <= float(match.group(6)) <= 2.0, match.group(0)   # backoff 1-2 s, not the 1 s Retry-After
        assert (match.group(4), match.group(5)) == ('2', '6')
    assert [e.get('status') for e in sent(emu, 'POST', '/v1.0/groups')] == [429, 201]
    stats = result.tasks[-1]['result']['graph_stats']
    assert stats['throttled'] == 2 and stats['retries'] == 2
    injected, throttled = fault_counters(emu)
    record(request, 'aad_group: 429 without Retry-After', injected, throttled, retries_of(result), time.monotonic() - started)


def test_replication_delay_longer_than_the_first_look_after_create(start_emulator, collections_path, request):
    """--replication-delay 6: the new group is out of lists for 6 s. A 500 after the create was applied sends the
    client to look by name after 1-2 s, when it is not listed yet; it must keep looking, not create a second one.
    A second run right after must find it too."""
    emu = start(start_emulator, '--replication-delay', '6')
    configure_faults(emu, rules=[rule('POST', '/groups', '500-after')])
    started = time.monotonic()
    result = run_tasks(emu, collections_path, GROUP_TASK)
    result.assert_ok()
    groups = named(emu.state(), 'groups', 'Autopilot devices')
    assert len(groups) == 1, 'the lost create was sent again during replication: %d groups' % len(groups)
    assert len(sent(emu, 'POST', '/v1.0/groups')) == 1
    again = run_tasks(emu, collections_path, GROUP_TASK)
    again.assert_ok()
    assert again.changed == 0 and len(named(emu.state(), 'groups', 'Autopilot devices')) == 1
    injected, throttled = fault_counters(emu)
    record(request, 'aad_group: 500 after create + 6 s replication delay', injected, throttled,
           retries_of(result), time.monotonic() - started)


def test_replication_delay_without_fault_then_immediate_rerun(start_emulator, collections_path):
    """A create that succeeded, then a second run while the group is still replicating: still one group."""
    emu = start(start_emulator, '--replication-delay', '4')
    first = run_tasks(emu, collections_path, GROUP_TASK + GROUP_TASK.replace('name: Group', 'name: Group again'))
    first.assert_ok()
    assert [t['status'] for t in first.tasks if t['task'].startswith('Group')] == ['changed', 'ok']
    assert len(named(emu.state(), 'groups', 'Autopilot devices')) == 1


@pytest.mark.parametrize('refusal', ['429', '409'])
def test_sync_refused_warns_and_does_not_fail(start_emulator, collections_path, request, refusal):
    """Intune refuses a sync with 429 within 10 minutes of the last one and with 409 while one runs
    (intune-enrollment-windowsautopilotsettings-sync.md). The import stands; the task warns."""
    settings = {'sync_min_interval': 600, 'sync_duration': 0} if refusal == '429' else \
        {'sync_min_interval': 0, 'sync_duration': 3600}
    emu = start(start_emulator, settings=settings)
    assert graph(emu, 'POST', '/deviceManagement/windowsAutopilotSettings/sync').status_code == 204
    started = time.monotonic()
    result = run_tasks(emu, collections_path, device_task(['FLT-0101']))
    result.assert_ok()
    syncs = sent(emu, 'POST', '/beta/deviceManagement/windowsAutopilotSettings/sync')
    assert [e.get('status') for e in syncs] == [204, int(refusal)]
    warnings = warnings_of(result)
    assert any(w.startswith('Autopilot sync not started: ') and '(%s ' % refusal in w for w in warnings), warnings
    assert [d['serialNumber'] for d in objects(emu.state(), 'windowsAutopilotDeviceIdentities')] == ['FLT-0101']
    assert result.tasks[-1]['status'] == 'changed'
    injected, throttled = fault_counters(emu)
    record(request, 'autopilot_device: sync refused with %s' % refusal, injected, throttled, retries_of(result),
           time.monotonic() - started)


# --------------------------------------------------------------------------------------------------------------
# 3. a wait that times out, and the re-run that picks up
# --------------------------------------------------------------------------------------------------------------

def test_import_wait_timeout_names_serials_and_rerun_picks_up(start_emulator, collections_path, request):
    emu = start_emulator('--import-delay', '30')
    serials = ['FLT-0201', 'FLT-0202']
    started = time.monotonic()
    first = run_tasks(emu, collections_path, device_task(serials, wait_timeout=2))
    assert first.rc != 0
    failed = first.tasks[-1]['result']
    assert failed.get('timed_out') is True
    msg = failed['msg']
    assert msg.startswith('Timed out after 2s waiting for the import to finish on 2 device(s): '), msg
    for serial in serials:
        assert re.search(r'%s \((unknown|pending)\)' % serial, msg), msg
    imports = sent(emu, 'POST', '/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities/import')
    assert len(imports) == 1
    assert objects(emu.state(), 'windowsAutopilotDeviceIdentities') == []

    emu.advance(30)   # Intune finishes the import meanwhile (emulated time)
    second = run_tasks(emu, collections_path, device_task(serials, wait_timeout=120))
    second.assert_ok()
    imports = sent(emu, 'POST', '/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities/import')
    assert len(imports) == 1, 'the re-run imported again'
    assert sorted(d['serialNumber'] for d in objects(emu.state(), 'windowsAutopilotDeviceIdentities')) == serials
    record(request, 'autopilot_device: import wait timed out, re-run', {}, 0, retries_of(first) + retries_of(second),
           time.monotonic() - started)


def test_rerun_while_the_import_is_still_under_way_waits_for_it(start_emulator, collections_path, request):
    emu = start_emulator('--import-delay', '30')
    serials = ['FLT-0301', 'FLT-0302']
    started = time.monotonic()
    first = run_tasks(emu, collections_path, device_task(serials, wait_timeout=2))
    assert first.rc != 0 and first.tasks[-1]['result'].get('timed_out') is True

    emu.advance(20)   # still under way: the import completes about 10 s (wall clock) into the re-run
    second = run_tasks(emu, collections_path, device_task(serials, wait_timeout=120))
    second.assert_ok()
    imports = sent(emu, 'POST', '/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities/import')
    assert len(imports) == 1, 'the re-run imported again while the first import was under way'
    assert 'An import was already under way for 2 device(s)' in second.output
    assert sorted(d['serialNumber'] for d in objects(emu.state(), 'windowsAutopilotDeviceIdentities')) == serials
    assert [r for r in objects(emu.state(), 'importedWindowsAutopilotDeviceIdentities')
            if r['serialNumber'] in serials] == [], 'the adopted import records were not cleaned up'
    record(request, 'autopilot_device: re-run while the import is under way', {}, 0,
           retries_of(first) + retries_of(second), time.monotonic() - started)


# --------------------------------------------------------------------------------------------------------------
# 4. the retry policy: documented, and visible when it acts
# --------------------------------------------------------------------------------------------------------------

def test_retry_policy_documented_in_readme_and_doc_fragment():
    readme = (REPO / 'README.md').read_text()
    assert re.search(r'[Rr]etr.*\(docs/connection\.md\)', readme), 'README does not link the retry policy'
    connection = (REPO / 'docs' / 'connection.md').read_text()
    assert '## Retry policy' in connection
    fragment = (REPO / 'plugins' / 'doc_fragments' / 'graph_auth.py').read_text()
    notes = re.search(r'Retry policy:(.*?)"\n', fragment, re.S).group(1)
    for fact in ('C(429)', 'C(Retry-After)', 'C(500)', 'C(502)', 'C(503)', 'C(504)', 'O(max_retries)',
                 'O(retry_max_delay)', '300 seconds', 'warning', '$batch', 'replicat'):
        assert fact in notes, 'the connection doc fragment does not say %r' % fact


def test_each_retry_is_a_warning_with_its_reason(start_emulator, collections_path, request):
    emu = start(start_emulator)
    configure_faults(emu, rules=[rule('GET', '/groups', '503'), rule('GET', '/groups', 'drop'),
                                 rule('GET', '/groups', '504-retry-after')])
    started = time.monotonic()
    result = run_tasks(emu, collections_path, GROUP_TASK)
    result.assert_ok()
    retried = [m for m in (RETRY_RE.match(w) for w in warnings_of(result)) if m]
    assert [(m.group(1), m.group(3), m.group(4)) for m in retried] == [
        ('GET', '503 serviceNotAvailable', '2'), ('GET', 'ConnectionError', '3'), ('GET', '504 GatewayTimeout', '4')]
    assert retried[2].group(6) == '1.0', 'the 504 carried Retry-After: 1'
    assert '[WARNING]: Retrying GET /v1.0/groups: 503 serviceNotAvailable' in result.output, 'the warnings reach the playbook output'
    assert result.tasks[-1]['result']['graph_stats']['retries'] == 3
    injected, throttled = fault_counters(emu)
    record(request, 'aad_group: 503, drop, 504 with Retry-After on one read', injected, throttled, retries_of(result),
           time.monotonic() - started)


def test_throttled_past_retry_max_delay_fails_at_once_and_says_why(start_emulator, collections_path):
    emu = start(start_emulator)
    configure_faults(emu, rules=[rule('GET', '/groups', '429', retry_after=3600)])
    result = run_tasks(emu, collections_path, GROUP_TASK)
    assert result.rc != 0
    msg = result.tasks[-1]['result']['msg']
    assert 'TooManyRequests' in msg and 'Retry-After 3600 s is longer than retry_max_delay 60 s' in msg, msg
    assert [e.get('status') for e in sent(emu, 'GET', '/v1.0/groups')] == [429], 'it was retried instead of failing at once'
    assert named(emu.state(), 'groups', 'Autopilot devices') == []

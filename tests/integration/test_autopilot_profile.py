# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""autopilot_profile and autopilot_profile_info through real ansible-playbook runs against the emulator.

Every behaviour is verified from the emulator's state (``/_emulator/state``) and its request log, not only from
what the module reports: the tutorial's profile and its assignment to the group aad_group created, check -> real ->
check -> real, one PATCH for one changed OOBE setting, one POST for one added group, unassign-then-delete, and bad
input refused before any write. The request log of the whole module is finally checked against Microsoft's published
schema (tests/graph_schema/check.py --log).
"""

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

PROFILES_SET = 'windowsAutopilotDeploymentProfiles'
PROFILE_PATH = '/beta/deviceManagement/windowsAutopilotDeploymentProfiles'
SCHEMA_CHECK = Path(__file__).resolve().parent.parent / 'graph_schema' / 'check.py'
NAME = 'Autopilot user driven'
TUTORIAL_OOBE = {'privacySettingsHidden': True, 'eulaHidden': True, 'userType': 'standard',
                 'deviceUsageType': 'singleUser', 'keyboardSelectionPageSkipped': True, 'escapeLinkHidden': True}


def playbook(*tasks):
    # Multi-line on purpose: the harness takes one-line text for a path.
    return json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': list(tasks)}], indent=1)


def group_task(name):
    return {'name': 'group %s' % name,
            'intune.autopilot.aad_group': {'display_name': name, 'all_autopilot_devices': True}}


def profile_task(task_name='profile', **options):
    params = {'display_name': NAME}
    params.update(options)
    return {'name': task_name, 'intune.autopilot.autopilot_profile': params}


TUTORIAL = profile_task(description='User driven Microsoft Entra join', device_name_template='CONTOSO-%SERIAL%',
                        assignments=[{'group': 'Autopilot devices'}])


def profiles(emulator):
    return list(emulator.state()['sets'].get(PROFILES_SET, {}).values())


def group_id(emulator, name):
    found = [g['id'] for g in emulator.state()['sets'].get('groups', {}).values() if g.get('displayName') == name]
    assert len(found) == 1, found
    return found[0]


def assignment_targets(profile):
    return sorted((a['target']['@odata.type'], a['target'].get('groupId')) for a in profile['_assignments'].values())


def graph_writes(entries):
    return [(e['method'], e['path'].split('?')[0]) for e in entries
            if e['method'] in ('POST', 'PATCH', 'DELETE') and e['path'].startswith('/beta/deviceManagement')]


@pytest.fixture
def tenant(emulator):
    emulator.reset()
    return emulator


@pytest.fixture
def log_start(tenant):
    """Where this test's part of the request log begins: the session's emulator also logged the other test files'."""
    return tenant.mark()


@pytest.fixture
def created(tenant, run_playbook):
    """The tutorial's profile assigned to the group aad_group created, one real run."""
    run_playbook(playbook(group_task('Autopilot devices'), TUTORIAL)).assert_ok()
    return tenant


def test_tutorial_profile_check_real_check_real(tenant, run_playbook):
    book = playbook(group_task('Autopilot devices'), TUTORIAL)

    # The group does not exist yet: by default check mode fails on it, as the real run would without the group task.
    mark = tenant.mark()
    strict = run_playbook(playbook(group_task('Autopilot devices'), dict(TUTORIAL, ignore_errors=True)), check=True)
    assert strict.task('profile')['msg'] == ("assignments[0].group: no group named 'Autopilot devices' was found; check the "
                                             "name, or, when an earlier task of the play creates it, set check_mode_missing: warn.")
    # With check_mode_missing: warn (the group task comes first in the play) the check predicts the profile.
    lenient = dict(TUTORIAL)
    lenient['intune.autopilot.autopilot_profile'] = dict(TUTORIAL['intune.autopilot.autopilot_profile'], check_mode_missing='warn')
    first_check = run_playbook(playbook(group_task('Autopilot devices'), lenient), check=True, diff=True).assert_ok()
    assert first_check.task('profile')['changed'] is True
    assert "no group named 'Autopilot devices' exists yet" in first_check.output
    assert tenant.writes_since(mark) == [], 'check mode wrote to the tenant'
    assert profiles(tenant) == []

    first = run_playbook(book).assert_ok()
    assert first.task('profile')['changed'] is True
    [profile] = profiles(tenant)
    assert profile['@odata.type'] == '#microsoft.graph.azureADWindowsAutopilotDeploymentProfile'
    assert profile['displayName'] == NAME
    assert profile['deviceNameTemplate'] == 'CONTOSO-%SERIAL%'
    assert profile['locale'] == 'os-default'
    assert profile['preprovisioningAllowed'] is False and profile['hardwareHashExtractionEnabled'] is False
    oobe = dict((k, v) for k, v in profile['outOfBoxExperienceSetting'].items() if not k.startswith('@'))
    assert oobe == TUTORIAL_OOBE
    assert assignment_targets(profile) == [('#microsoft.graph.groupAssignmentTarget', group_id(tenant, 'Autopilot devices'))]
    [assignment_id] = profile['_assignments']
    # The id real tenants show (tests/graph_emulator/autopilot_profiles.py); the module never builds one.
    assert assignment_id == '%s_%s_0' % (profile['id'], group_id(tenant, 'Autopilot devices'))
    # The POST carried the current property names only.
    [create] = [e for e in tenant.requests_since(mark) if e['method'] == 'POST' and e['path'] == PROFILE_PATH]
    body = create['request_body']
    assert 'outOfBoxExperienceSetting' in body and 'outOfBoxExperienceSettings' not in body
    assert not set(body) & {'language', 'extractHardwareHash', 'enableWhiteGlove'}

    mark = tenant.mark()
    second_check = run_playbook(book, check=True, diff=True).assert_ok()
    assert second_check.changed == 0, second_check.output[-3000:]
    second = run_playbook(book).assert_ok()
    assert second.changed == 0, second.output[-3000:]
    assert tenant.writes_since(mark) == []
    assert len(profiles(tenant)) == 1


def test_changed_oobe_setting_is_one_patch(created, run_playbook):
    book = playbook(profile_task(out_of_box_experience_setting={'escape_link_hidden': False}))
    mark = created.mark()
    check = run_playbook(book, check=True, diff=True).assert_ok()
    assert check.task('profile')['changed'] is True and created.writes_since(mark) == []

    mark = created.mark()
    result = run_playbook(book, diff=True).assert_ok()
    writes = created.writes_since(mark)
    assert [(w['method'], w['path']) for w in writes] == [('PATCH', '%s/%s' % (PROFILE_PATH, profiles(created)[0]['id']))]
    body = writes[0]['request_body']
    assert set(body) - {'@odata.type'} == {'outOfBoxExperienceSetting'}
    assert body['outOfBoxExperienceSetting']['escapeLinkHidden'] is False
    diff = result.task('profile')['diff']
    assert diff['before']['outOfBoxExperienceSetting']['escapeLinkHidden'] is True
    assert diff['after']['outOfBoxExperienceSetting']['escapeLinkHidden'] is False
    assert 'escapeLinkHidden' in result.output  # the --diff output names the key
    [profile] = profiles(created)
    assert profile['outOfBoxExperienceSetting']['escapeLinkHidden'] is False
    assert profile['outOfBoxExperienceSetting']['eulaHidden'] is True  # the others untouched

    mark = created.mark()
    assert run_playbook(book).assert_ok().changed == 0
    assert created.writes_since(mark) == []


def test_adding_a_group_adds_one_assignment(created, run_playbook):
    before = dict(profiles(created)[0]['_assignments'])
    book = playbook(group_task('Autopilot pilots'),
                    profile_task(assignments=[{'group': 'Autopilot devices'}, {'group': 'Autopilot pilots'}]))
    run_playbook(playbook(group_task('Autopilot pilots'))).assert_ok()
    mark = created.mark()
    result = run_playbook(book).assert_ok()
    assert result.task('profile')['changed'] is True
    [profile] = profiles(created)
    assert graph_writes(created.requests_since(mark)) == [('POST', '%s/%s/assignments' % (PROFILE_PATH, profile['id']))]
    assert assignment_targets(profile) == sorted([
        ('#microsoft.graph.groupAssignmentTarget', group_id(created, 'Autopilot devices')),
        ('#microsoft.graph.groupAssignmentTarget', group_id(created, 'Autopilot pilots'))])
    for assignment_id, assignment in before.items():
        assert profile['_assignments'][assignment_id] == assignment  # untouched
    assert result.task('profile')['assignments'] == [{'group': 'Autopilot devices'}, {'group': 'Autopilot pilots'}]


def test_replacing_a_group_creates_before_it_deletes(created, run_playbook):
    run_playbook(playbook(group_task('Autopilot pilots'))).assert_ok()
    [old] = profiles(created)[0]['_assignments']   # the id the emulator gave the assignment the module must delete
    mark = created.mark()
    run_playbook(playbook(profile_task(assignments=[{'group': 'Autopilot pilots'}]))).assert_ok()
    [profile] = profiles(created)
    base = '%s/%s/assignments' % (PROFILE_PATH, profile['id'])
    assert graph_writes(created.requests_since(mark)) == [('POST', base), ('DELETE', '%s/%s' % (base, old))]
    assert assignment_targets(profile) == [('#microsoft.graph.groupAssignmentTarget', group_id(created, 'Autopilot pilots'))]


def test_absent_unassigns_then_deletes(created, run_playbook):
    profile_id = profiles(created)[0]['id']
    [assignment_id] = profiles(created)[0]['_assignments']
    book = playbook(profile_task(state='absent'))
    mark = created.mark()
    assert run_playbook(book, check=True).assert_ok().changed == 1
    assert created.writes_since(mark) == [] and len(profiles(created)) == 1

    result = run_playbook(book).assert_ok()
    assert result.task('profile')['changed'] is True
    assert graph_writes(created.requests_since(mark)) == [
        ('DELETE', '%s/%s/assignments/%s' % (PROFILE_PATH, profile_id, assignment_id)),
        ('DELETE', '%s/%s' % (PROFILE_PATH, profile_id))]
    assert profiles(created) == []

    mark = created.mark()
    assert run_playbook(book).assert_ok().changed == 0
    assert created.writes_since(mark) == []


BAD_INPUT = [
    ('template too long', {'device_name_template': 'CONTOSO-LAPTOP-%SERIAL%'}, 'device_name_template:', '16 characters'),
    ('template all digits', {'device_name_template': '%RAND:8%'}, 'device_name_template:', 'all digits'),
    ('template with a space', {'device_name_template': 'PC %SERIAL%'}, 'device_name_template:', "' '"),
    ('template unknown macro', {'device_name_template': 'PC-%USERNAME%'}, 'device_name_template:', '%USERNAME%'),
    ('invalid locale', {'locale': 'english'}, 'locale:', 'english'),
    ('unknown group', {'assignments': [{'group': 'No such group'}]}, 'assignments[0].group:', 'No such group'),
    ('filter on a profile', {'assignments': [{'group': 'Autopilot devices', 'filter': 'x'}]}, 'assignments[0]:', 'filter'),
]


def test_bad_input_fails_before_any_write(created, run_playbook):
    tasks = [dict(profile_task(task_name=name, description='changed', **options), ignore_errors=True)
             for name, options, _prefix, _fragment in BAD_INPUT]
    state_before = profiles(created)
    mark = created.mark()
    result = run_playbook(playbook(*tasks))
    assert result.rc == 0, result.output[-3000:]
    for name, _options, prefix, fragment in BAD_INPUT:
        task = result.task(name)
        [status] = [t['status'] for t in result.tasks if t['task'] == name]
        assert status == 'failed', (name, task)
        assert task['msg'].startswith(prefix), (name, task['msg'])
        assert fragment in task['msg'], (name, task['msg'])
    assert created.writes_since(mark) == []
    assert profiles(created) == state_before


def graph(emulator, method, path, body=None):
    """A Graph call made by the test itself (client credentials against the emulator), not by a module."""
    token = emulator.http.post('%s/%s/oauth2/v2.0/token' % (emulator.url, emulator.tenant_id), data={
        'grant_type': 'client_credentials', 'client_id': emulator.client_id, 'client_secret': emulator.client_secret,
        'scope': 'https://graph.microsoft.com/.default'}, timeout=30, verify=emulator.ca_path)
    token.raise_for_status()
    response = emulator.http.request(method, emulator.url + path, json=body, timeout=30, verify=emulator.ca_path,
                                     headers={'Authorization': 'Bearer ' + token.json()['access_token']})
    response.raise_for_status()
    return response.json() if response.content else None


def register_device(emulator, serial):
    """Import one device by hardware hash and let the emulated import and profile assignment complete."""
    graph(emulator, 'POST', '/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities/import', {
        'importedWindowsAutopilotDeviceIdentities': [{
            '@odata.type': '#microsoft.graph.importedWindowsAutopilotDeviceIdentity', 'serialNumber': serial,
            'hardwareIdentifier': base64.b64encode(('hash of ' + serial).encode()).decode()}]})
    emulator.advance(60)


def test_info_resolves_group_names(created, run_playbook):
    register_device(created, 'SN-INFO-0001')
    book = playbook(
        {'name': 'all', 'intune.autopilot.autopilot_profile_info': {}},
        {'name': 'by name', 'intune.autopilot.autopilot_profile_info': {'display_name': NAME.upper(), 'include_devices': True}},
        {'name': 'missing', 'intune.autopilot.autopilot_profile_info': {'id': '00000000-0000-0000-0000-000000000000'}},
    )
    result = run_playbook(book).assert_ok()
    [profile] = profiles(created)
    [listed] = result.task('all')['profiles']
    assert listed['id'] == profile['id']
    assert listed['assignments'] == [{'group': 'Autopilot devices'}]
    [by_name] = result.task('by name')['profiles']
    assert by_name['id'] == profile['id']
    assert [d['serialNumber'] for d in by_name['assignedDevices']] == ['SN-INFO-0001']
    assert 'assignedDevices' not in listed  # only on request
    assert result.task('missing')['profiles'] == []


def test_request_log_matches_microsoft_schema(log_start, created, run_playbook):
    """Everything the modules sent and the emulator answered in a full lifecycle, against Graph's schema."""
    result = run_playbook(playbook(group_task('Autopilot pilots'),
                                   profile_task(locale='de-DE', out_of_box_experience_setting={'user_type': 'administrator'},
                                                scope_tags=['Default', 'site-berlin'],
                                                assignments=[{'group': 'Autopilot pilots'}, {'all_devices': True}]),
                                   {'name': 'info', 'intune.autopilot.autopilot_profile_info': {'include_devices': True}},
                                   profile_task(task_name='again', locale='DE-de', scope_tags=['Site-Berlin', '0']),
                                   profile_task(task_name='remove', state='absent')))
    result.assert_ok()
    [profile] = result.task('info')['profiles']
    assert sorted(profile['roleScopeTagIds']) == ['0', '2']
    assert profile['locale'] == 'de-DE' and profile['outOfBoxExperienceSetting']['userType'] == 'administrator'
    assert profile['assignments'] == [{'all_devices': True}, {'group': 'Autopilot pilots'}]
    assert result.task('again')['changed'] is False  # locale case and scope tag order/ids are not drift
    assert profiles(created) == []
    entries = [e for e in created.requests_since(log_start) if '/windowsAutopilotDeploymentProfiles' in e['path']]
    assert entries
    log = created.workdir / 'autopilot-profile-requests.jsonl'
    log.write_text(''.join(json.dumps(e) + '\n' for e in entries))
    proc = subprocess.run([sys.executable, str(SCHEMA_CHECK), '--log', str(log)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_an_ambiguous_group_name_lists_the_ids_and_writes_nothing(created, run_playbook):
    """Graph allows two groups with one name; an assignment to that name names both ids, before any write."""
    first = group_id(created, 'Autopilot devices')
    body = {'displayName': 'Autopilot devices', 'mailEnabled': False, 'mailNickname': 'apdup', 'securityEnabled': True}
    second = graph(created, 'POST', '/v1.0/groups', body)['id']
    mark = created.mark()
    result = run_playbook(playbook(dict(profile_task(assignments=[{'group': 'Autopilot devices'}]), ignore_errors=True)))
    message = result.task('profile')['msg']
    assert "2 groups are named 'Autopilot devices' (ids: %s); use the id" % ', '.join(sorted([first, second])) in message
    assert created.writes_since(mark) == []


def test_a_self_deploying_profile_as_graph_returns_it_is_adopted(tenant, run_playbook):
    """Issue 13: a self-deploying (shared) profile, created through Graph as real tenants hold it, with a userType.
    The module given the settings it has changes nothing and writes nothing (today's code failed with "not used with
    device_usage_type shared")."""
    oobe = {'@odata.type': 'microsoft.graph.outOfBoxExperienceSetting', 'privacySettingsHidden': True,
            'eulaHidden': True, 'userType': 'standard', 'deviceUsageType': 'shared',
            'keyboardSelectionPageSkipped': True, 'escapeLinkHidden': True}
    graph(tenant, 'POST', PROFILE_PATH, {'@odata.type': '#microsoft.graph.azureADWindowsAutopilotDeploymentProfile',
                                         'displayName': 'Kiosks self deploying', 'locale': 'os-default',
                                         'deviceType': 'windowsPc', 'outOfBoxExperienceSetting': oobe})
    book = playbook(profile_task(display_name='Kiosks self deploying', out_of_box_experience_setting={
        'privacy_settings_hidden': True, 'eula_hidden': True, 'user_type': 'standard', 'device_usage_type': 'shared',
        'keyboard_selection_page_skipped': True, 'escape_link_hidden': True}))
    for check in (True, False):
        mark = tenant.mark()
        result = run_playbook(book, check=check, diff=True).assert_ok()
        assert result.task('profile')['changed'] is False, result.task('profile')
        assert tenant.writes_since(mark) == []
    [profile] = profiles(tenant)
    assert profile['outOfBoxExperienceSetting']['userType'] == 'standard'


def test_every_problem_of_a_task_at_once(created, run_playbook):
    """Issue 15: option problems and names that do not resolve, in one failure, before any write."""
    mark = created.mark()
    result = run_playbook(playbook(dict(profile_task(device_name_template='PC %SERIAL%', locale='english',
                                                     scope_tags=['No such tag'],
                                                     assignments=[{'group': 'No such group'}, {'all_users': True}]),
                                        ignore_errors=True)))
    assert result.task('profile')['problems'] == [
        "scope_tags[0]: no scope tag named 'No such tag' was found.",
        "assignments[0].group: no group named 'No such group' was found.",
        'assignments[1]: all_users is not a valid target here; this resource is assigned to devices, so use groups or '
        'all_devices.',
        "locale: 'english' is not a language tag; use os-default or a tag such as en-US, de-DE or sr-Latn-RS.",
        "device_name_template: 'PC %SERIAL%' is refused: only letters, digits and hyphens are allowed besides the "
        "macros (found ' ').",
    ]
    assert created.writes_since(mark) == []


def test_a_group_created_earlier_in_the_play_is_retried_until_intune_knows_it(tenant, run_playbook):
    """Issue 13: Intune refuses a new group as an assignment target for a while (the emulator's
    group_assignment_delay, 300 service seconds at time_scale 60: 5 s); the profile's assignment is retried until it
    is accepted, one profile and one assignment in the end."""
    tenant.reset(group_assignment_delay=300.0, time_scale=60.0)
    mark = tenant.mark()
    result = run_playbook(playbook(group_task('Autopilot devices'), TUTORIAL)).assert_ok()
    assert result.task('profile')['changed'] is True
    [profile] = profiles(tenant)
    assert assignment_targets(profile) == [('#microsoft.graph.groupAssignmentTarget', group_id(tenant, 'Autopilot devices'))]
    posts = [e for e in tenant.requests_since(mark)
             if e['method'] == 'POST' and e['path'] == '%s/%s/assignments' % (PROFILE_PATH, profile['id'])]
    assert [p['status'] for p in posts][-1] == 201 and 400 in [p['status'] for p in posts], [p['status'] for p in posts]
    assert len(posts) <= 6, 'bounded, with pauses between the attempts'

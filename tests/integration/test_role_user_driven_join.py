# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role user_driven_join with the example inventory (playbooks/user_driven_join.yml), against its own emulator.

Everything is verified from the emulator (its state through the control API, its request log, and Graph reads
made here with a token of our own), never from what the modules report about themselves:

* ``--check`` against an empty tenant completes and sends no write;
* the example inventory converges (groups, ESP with settings/assignment/priority, one profile per site assigned to
  the site's group, devices with group tag, effective profile and user);
* a second run reports changed=0 and sends no write;
* ``--check --diff`` after one site's variable changed shows only that change, on that site;
* ``--tags esp`` runs the ESP step alone.

The module-scoped fixture runs the first three playbook runs once; the later tests start from the converged
tenant and put it back as they found it.
"""

import shutil
from pathlib import Path

import pytest
import requests

from tests.integration import harness

REPO = harness.REPO_ROOT
PLAYBOOK = REPO / 'playbooks' / 'user_driven_join.yml'
INVENTORY = REPO / 'playbooks' / 'inventory' / 'example'
NEEDED = ('aad_group', 'intune_esp', 'autopilot_profile', 'autopilot_device')
MISSING = [m for m in NEEDED if not (REPO / 'plugins' / 'modules' / (m + '.py')).exists()]

pytestmark = pytest.mark.skipif(bool(MISSING), reason='the role calls modules not written yet: %s' % ', '.join(MISSING))

# Fast emulated Intune: imports complete after 1 s, profile assignment is in sync 1 s after it changed, and the
# role polls every second (variables a user could set the same way).
FAST = {'user_driven_join_poll_interval': 1, 'user_driven_join_wait_timeout': 300}

SITES = {
    'berlin': {'tag': 'BER', 'locale': 'de-DE', 'template': 'BER-%RAND:6%',
               'serials': {'5CG3281KQ7', '5CG3281KR2', '5CG3294LM8'},
               'users': {'5CG3281KQ7': 'AdeleV@contoso.onmicrosoft.com'}},
    'lyon': {'tag': 'LYS', 'locale': 'fr-FR', 'template': 'LYS-%SERIAL%',
             'serials': {'PF4KX2L9', 'PF4KX3M1'},
             'users': {'PF4KX2L9': 'MeganB@contoso.onmicrosoft.com'}},
}
ESP_NAME = 'Contoso Autopilot ESP'
TENANT_GROUP = 'Autopilot devices'


def objects(state, kind):
    sets = state.get('sets', state)
    values = sets.get(kind, {})
    return list(values.values()) if isinstance(values, dict) else list(values)


def by_name(state, kind, name):
    found = [o for o in objects(state, kind) if o.get('displayName') == name]
    assert len(found) == 1, '%d %s named %r in the emulator' % (len(found), kind, name)
    return found[0]


def graph_get(emu, path):
    """GET a Graph beta path with a token of our own (not through the collection), following nextLink."""
    token = requests.post('%s/%s/oauth2/v2.0/token' % (emu.url, emu.tenant_id), verify=emu.ca_path, timeout=30, data={
        'grant_type': 'client_credentials', 'client_id': emu.client_id, 'client_secret': emu.client_secret,
        'scope': 'https://graph.microsoft.com/.default'}).json()['access_token']
    url, items = '%s/beta%s' % (emu.url, path), []
    while url:
        body = requests.get(url, headers={'Authorization': 'Bearer ' + token}, verify=emu.ca_path, timeout=30).json()
        if 'value' not in body:
            return body
        items.extend(body['value'])
        url = body.get('@odata.nextLink')
    return items


def executed(result):
    """(host, task name) of the role's steps that ran (not skipped): without the argument and tenant checks, the
    preflight and the summary."""
    names = [(t['host'], t['task'].split(' : ', 1)[-1]) for t in result.tasks if t['status'] != 'skipped']
    return [(h, n) for h, n in names if not (n.startswith(('Validating arguments', 'Check that every site', 'Preflight'))
                                             or n.endswith(' - preflight') or n.startswith(('Summary of the site', 'The steps, one module call')))]


def changed_tasks(result):
    return [(t['host'], t['task'].split(' : ', 1)[-1]) for t in result.tasks if t['status'] == 'changed']


class Site:
    """The emulator, a private copy of the example inventory, and what the first three runs did."""

    def __init__(self, emu, collections, workdir):
        self.emu = emu
        self.collections = collections
        self.inventory_dir = Path(workdir) / 'inventory'
        shutil.copytree(str(INVENTORY), str(self.inventory_dir))
        self.inventory = self.inventory_dir / 'hosts.yml'
        self.runs = {}

    def run(self, **kwargs):
        extra = dict(FAST)
        extra.update(kwargs.pop('extra_vars', None) or {})
        return harness.run_playbook(PLAYBOOK, emulator=self.emu, collections_path=self.collections,
                                    inventory=self.inventory, extra_vars=extra, **kwargs)


@pytest.fixture(scope='module')
def site(tmp_path_factory, collections_path):
    emu = harness.start_emulator('--import-delay', '1', workdir=tmp_path_factory.mktemp('udj-emulator'))
    try:
        emu.control('PATCH', 'settings', {'profile_assignment_delay': 1})
        s = Site(emu, collections_path, tmp_path_factory.mktemp('udj'))
        for name, kwargs in (('check_empty', {'check': True, 'diff': True}), ('first', {}), ('second', {})):
            mark = emu.mark()
            result = s.run(**kwargs)
            s.runs[name] = (result, emu.writes_since(mark), emu.state())
            if name == 'first':
                s.devices_after_first = graph_get(emu, '/deviceManagement/windowsAutopilotDeviceIdentities')
        yield s
    finally:
        emu.stop()


def test_check_against_empty_tenant_completes_and_writes_nothing(site):
    result, writes, state = site.runs['check_empty']
    result.assert_ok()
    assert writes == [], 'check mode sent writes: %s' % [(w['method'], w['path']) for w in writes]
    assert objects(state, 'windowsAutopilotDeploymentProfiles') == []
    assert objects(state, 'windowsAutopilotDeviceIdentities') == []
    # Every step ran and predicted a change; the assignments warned about groups that do not exist yet.
    names = set(name for _host, name in changed_tasks(result))
    assert {'Dynamic group of all Autopilot devices (targeted by the ESP)',
            'Dynamic group of the site\'s Autopilot devices, by group tag',
            'Enrollment Status Page, its settings, assignments and priority',
            'Deployment profile of the site, assigned to its device group',
            'Devices of the site, imported by hardware hash with the site\'s group tag'} <= names
    # The check's recap tells the truth: per site, as many changed tasks as the real run that followed it.
    first = site.runs['first'][0]
    assert dict((h, result.count('changed', h)) for h in result.stats) == dict((h, first.count('changed', h)) for h in first.stats)
    assert "no group named 'Autopilot devices - lyon' exists yet" in result.output


def test_example_inventory_converges(site):
    result, writes, state = site.runs['first']
    result.assert_ok()
    assert writes, 'the first run sent no write'

    tenant_group = by_name(state, 'groups', TENANT_GROUP)
    assert tenant_group['membershipRule'] == '(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))'

    esp = by_name(state, 'deviceEnrollmentConfigurations', ESP_NAME)
    assert esp['@odata.type'] == '#microsoft.graph.windows10EnrollmentCompletionPageConfiguration'
    assert esp['showInstallationProgress'] is True
    assert esp['installProgressTimeoutInMinutes'] == 90          # group_vars override of the default 60
    assert esp['customErrorMessage'].startswith('Setup could not finish.')
    assert esp['blockDeviceSetupRetryByUser'] is False            # portal "Block device use": Yes
    assert esp['allowLogCollectionOnInstallFailure'] is True
    assert esp['priority'] == 1
    esp_assignments = graph_get(site.emu, '/deviceManagement/deviceEnrollmentConfigurations/%s/assignments' % esp['id'])
    assert [a['target'].get('groupId') for a in esp_assignments] == [tenant_group['id']]

    devices = dict((d['serialNumber'], d) for d in site.devices_after_first)
    for name, want in SITES.items():
        group = by_name(state, 'groups', 'Autopilot devices - %s' % name)
        assert group['membershipRule'] == '(device.devicePhysicalIds -any (_ -eq "[OrderID]:%s"))' % want['tag']
        profile = by_name(state, 'windowsAutopilotDeploymentProfiles', 'User driven Entra join %s' % name)
        assert profile['@odata.type'] == '#microsoft.graph.azureADWindowsAutopilotDeploymentProfile'
        assert profile['locale'] == want['locale']
        assert profile['deviceNameTemplate'] == want['template']
        oobe = profile['outOfBoxExperienceSetting']
        assert (oobe['deviceUsageType'], oobe['userType'], oobe['eulaHidden'], oobe['privacySettingsHidden'],
                oobe['escapeLinkHidden'], oobe['keyboardSelectionPageSkipped']) == ('singleUser', 'standard', True, True, True, True)
        assignments = graph_get(site.emu, '/deviceManagement/windowsAutopilotDeploymentProfiles/%s/assignments' % profile['id'])
        assert [a['target'].get('groupId') for a in assignments] == [group['id']]
        for serial in want['serials']:
            device = devices[serial]
            assert device['groupTag'] == want['tag']
            assert device['deploymentProfileAssignmentStatus'].startswith('assigned'), device
            assert device['userPrincipalName'] == want['users'].get(serial, ''), device
            # the site's profile is the device's profile (Graph's deploymentProfile navigation)
            assigned = graph_get(site.emu, '/deviceManagement/windowsAutopilotDeviceIdentities/%s/deploymentProfile' % device['id'])
            assert assigned['id'] == profile['id']
    assert set(devices) == SITES['berlin']['serials'] | SITES['lyon']['serials']
    # the module's own import records are cleaned up
    assert objects(state, 'importedWindowsAutopilotDeviceIdentities') == []


def test_second_run_changes_nothing_and_writes_nothing(site):
    result, writes, _state = site.runs['second']
    result.assert_ok()
    assert result.changed == 0, changed_tasks(result)
    assert 'changed=0' in result.stdout
    assert writes == [], [(w['method'], w['path']) for w in writes]


def test_check_diff_after_one_site_changed_shows_only_that_change(site):
    host_vars = site.inventory_dir / 'host_vars' / 'lyon.yml'
    original = host_vars.read_text()
    host_vars.write_text(original.replace('user_driven_join_locale: fr-FR', 'user_driven_join_locale: fr-BE'))
    try:
        mark = site.emu.mark()
        result = site.run(check=True, diff=True)
        writes = site.emu.writes_since(mark)
    finally:
        host_vars.write_text(original)
    result.assert_ok()
    assert writes == []
    assert changed_tasks(result) == [('lyon', 'Deployment profile of the site, assigned to its device group')]
    diff = result.task('intune.autopilot.user_driven_join : Deployment profile of the site, assigned to its device group',
                       host='lyon')['diff']
    before, after = diff['before'], diff['after']
    assert {k for k in set(before) | set(after) if before.get(k) != after.get(k)} == {'locale'}, diff
    assert (before['locale'].lower(), after['locale'].lower()) == ('fr-fr', 'fr-be')
    assert '-    "locale": "fr-FR"' in result.stdout and '+    "locale": "fr-BE"' in result.stdout


def test_tags_run_one_step_alone(site):
    # Two variables change, one per step; --tags esp must apply the ESP one and nothing else.
    changes = {'user_driven_join_esp_install_progress_timeout_in_minutes': 120, 'user_driven_join_locale': 'en-GB'}
    mark = site.emu.mark()
    result = site.run(tags='esp', extra_vars=changes)
    writes = site.emu.writes_since(mark)
    try:
        result.assert_ok()
        assert executed(result) == [('berlin', 'Enrollment Status Page, its settings, assignments and priority')]
        assert [(w['method'], w['path'].split('/')[-2]) for w in writes] == [('PATCH', 'deviceEnrollmentConfigurations')]
        state = site.emu.state()
        assert by_name(state, 'deviceEnrollmentConfigurations', ESP_NAME)['installProgressTimeoutInMinutes'] == 120
        assert by_name(state, 'windowsAutopilotDeploymentProfiles', 'User driven Entra join berlin')['locale'] == 'de-DE'
    finally:
        site.run(tags='esp').assert_ok()
    assert by_name(site.emu.state(), 'deviceEnrollmentConfigurations', ESP_NAME)['installProgressTimeoutInMinutes'] == 90


def test_sites_of_two_tenants_in_one_play_are_refused(site):
    """Tenant-wide objects are written once per run (run_once): a play spanning two tenants must stop first."""
    inventory = {'autopilot_sites': {'hosts': {
        'berlin': {'user_driven_join_tenant_id': site.emu.tenant_id},
        'lyon': {'user_driven_join_tenant_id': '00000000-0000-0000-0000-000000000001'}}}}
    mark = site.emu.mark()
    result = harness.run_playbook(PLAYBOOK, emulator=site.emu, collections_path=site.collections, check=True,
                                  inventory=inventory)
    assert result.rc != 0
    assert 'run the playbook once per tenant' in result.output
    assert site.emu.requests_since(mark) == []
    assert [t for t in result.tasks if t['action'].startswith('intune.autopilot.')] == []


@pytest.mark.parametrize('extra_vars, message', [
    ({'user_driven_join_users': [{'serial': '5CG3281KQ7', 'assigned_user': 'AdeleV@contoso.onmicrosoft.com'}]},
     'user_driven_join_users.serial. Supported parameters include: addressable_user_name, assigned_user, serial_number'),
    ({'user_driven_join_esp_assignments': [{'groupe': 'Autopilot devices'}]},
     'user_driven_join_esp_assignments.groupe. Supported parameters include'),
    ({'user_driven_join_user_type': 'poweruser'},
     'user_driven_join_user_type must be one of: standard, administrator'),
])
def test_bad_variables_fail_before_any_request(site, extra_vars, message):
    mark = site.emu.mark()
    result = site.run(check=True, extra_vars=extra_vars)
    assert result.rc != 0
    assert message in result.output
    assert site.emu.requests_since(mark) == []


def test_a_misspelled_variable_stops_every_site_before_any_write(site):
    """A misspelled variable would silently fall back to the default group tag, rewriting the site's group rule: the
    preflight names it, and no site writes anything (extra vars reach every site, so both name it)."""
    mark = site.emu.mark()
    result = site.run(extra_vars={'user_driven_join_grouptag': 'BER'})
    assert result.rc != 0
    assert site.emu.writes_since(mark) == []
    for host in ('berlin', 'lyon'):
        failed = [t for t in result.tasks if t['host'] == host and t['status'] == 'failed']
        assert [t['task'].split(' : ', 1)[-1] for t in failed] == ['Preflight - every problem of every site, before the first write']
        assert 'unknown variable(s) user_driven_join_grouptag: the role would ignore them' in failed[0]['result']['msg']


def test_a_site_name_with_hyphens_gets_a_profile_name_intune_accepts(site):
    """Inventory host names often have hyphens, which Intune refuses in a profile name (the emulator answers 500 as
    reported): the role's default name turns them into spaces, and the run converges."""
    inventory = {'autopilot_sites': {'hosts': {'new-york-2': {'user_driven_join_group_tag': 'NYC'}}}}
    result = harness.run_playbook(PLAYBOOK, emulator=site.emu, collections_path=site.collections, inventory=inventory,
                                  extra_vars=FAST)
    result.assert_ok()
    state = site.emu.state()
    profile = by_name(state, 'windowsAutopilotDeploymentProfiles', 'User driven Entra join new york 2')
    assert profile['description'] == 'Windows Autopilot user driven Microsoft Entra join for site new york 2'
    assert by_name(state, 'groups', 'Autopilot devices - new-york-2')['membershipRule'] == \
        '(device.devicePhysicalIds -any (_ -eq "[OrderID]:NYC"))'


def test_progress_while_waiting_and_a_summary_per_site(site):
    """The devices steps show the module's counts per state while they wait (the action plugin), and each site ends
    with one line per step; the counts match the devices the emulator holds after the run."""
    result, _writes, state = site.runs['first']
    devices = objects(state, 'windowsAutopilotDeviceIdentities')
    for name, want in SITES.items():
        start = result.stdout.index("TASK [intune.autopilot.user_driven_join : Devices of the site, imported by hardware hash "
                                    "with the site's group tag] ***")
        section = result.stdout[start:result.stdout.index('TASK [', start + 1)]
        assert '%s: autopilot_device import after ' % name in section, section
        summary = result.task('intune.autopilot.user_driven_join : Summary of the site, one line per step', host=name)['msg']
        mine = [d for d in devices if d['groupTag'] == want['tag']]
        assert len(mine) == len(want['serials'])
        assert 'devices: %d imported (of %d)' % (len(mine), len(mine)) in summary
        assert 'profile_wait: %d assigned (of %d)' % (len(mine), len(mine)) in summary
        assert 'profile (User driven Entra join %s): created' % name in summary
    checked = site.runs['check_empty'][0]
    summary = checked.task('intune.autopilot.user_driven_join : Summary of the site, one line per step', host='berlin')['msg']
    assert 'devices: 3 imported (of 3)' in summary and 'profile_wait: not run' in summary
    second = site.runs['second'][0].task('intune.autopilot.user_driven_join : Summary of the site, one line per step',
                                         host='lyon')['msg']
    assert 'devices: 2 unchanged (of 2)' in second and 'profile (User driven Entra join lyon): unchanged' in second

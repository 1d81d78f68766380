# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbook intune.autopilot.export, and the round trip it promises: export, then the role on the exported
inventory changes nothing.

Two tenants, each in its own emulator:

* a brownfield tenant built here directly through Graph, the way the portal would have left it: several sites
  (profiles with different OOBE settings on dynamic group-tag groups, one rule in the Entra reference form), an ESP
  with non-default settings and apps (one of two apps that share a name), devices with tags, a display name and a
  user with a friendly name, and objects the role cannot express (a second ESP, a self-deploying, a hybrid join and
  an all-devices profile, a younger profile on a site's group, groups with other rules, devices of no site);
* a tenant the role itself created from the example inventory.

The brownfield steps are spaced as an admin's are (the next step in the portal comes minutes later): on the realistic
profile the emulator's clock is moved past the service's delays between them (``Graph.wait_out``); on best case
they are 0.

For each: the export sends no Graph write and writes the inventory; a second export changes nothing (same bytes);
``--check`` of the export writes no file; the role's ``--check`` on the exported inventory reports changed=0,
failed=0 with no Graph write; the real run changed=0 with no write. What the export could not express is listed in
EXPORT.md and is unchanged in the emulator's state afterwards. Facts are read from the emulator (its state, its
request log, Graph reads made here with a token of our own), never from what the modules say about themselves.
"""

import base64
import pprint
import shutil
from pathlib import Path

import pytest
import requests
import yaml

from tests.integration import harness

REPO = harness.REPO_ROOT
ROLE_PLAYBOOK = REPO / 'playbooks' / 'user_driven_join.yml'
EXAMPLE = REPO / 'playbooks' / 'inventory' / 'example'
EXPORT = 'intune.autopilot.export'
FAST = {'user_driven_join_poll_interval': 1, 'user_driven_join_wait_timeout': 300}
NS = '#microsoft.graph.'
PROFILES = '/deviceManagement/windowsAutopilotDeploymentProfiles'
CONFIGS = '/deviceManagement/deviceEnrollmentConfigurations'
DEVICES = '/deviceManagement/windowsAutopilotDeviceIdentities'
IMPORTS = '/deviceManagement/importedWindowsAutopilotDeviceIdentities'


class Graph:
    """Graph calls with a token of our own, as the portal (or a script) would make them."""

    def __init__(self, emu):
        self.emu = emu
        self.session = requests.Session()
        answer = self.session.post('%s/%s/oauth2/v2.0/token' % (emu.url, emu.tenant_id), verify=emu.ca_path, timeout=30,
                                   data={'grant_type': 'client_credentials', 'client_id': emu.client_id,
                                         'client_secret': emu.client_secret, 'scope': 'https://graph.microsoft.com/.default'})
        answer.raise_for_status()
        self.token = answer.json()['access_token']

    def call(self, method, path, body=None, version='beta'):
        url = path if path.startswith('https://') else '%s/%s%s' % (self.emu.url, version, path)
        answer = self.session.request(method, url, json=body, verify=self.emu.ca_path, timeout=30,
                                      headers={'Authorization': 'Bearer ' + self.token})
        assert answer.status_code < 300, '%s %s -> %s %s' % (method, path, answer.status_code, answer.text[:500])
        return answer.json() if answer.content else None

    def list(self, path, version='beta'):
        items, url = [], '%s/%s%s' % (self.emu.url, version, path)
        while url:
            page = self.call('GET', url)
            items.extend(page['value'])
            url = page.get('@odata.nextLink')
        return items

    def wait_out(self, *delays):
        """Move the emulator's clock past the longest of the service delays named (settings, in service seconds)."""
        settings = self.emu.control('GET', 'settings')
        seconds = max(float(settings.get(name) or 0) for name in delays) / float(settings.get('time_scale') or 1)
        if seconds:
            self.emu.advance(seconds + 1)

    # -- the portal's steps ----------------------------------------------------------------------------------
    def group(self, name, rule=None, description=None):
        body = {'displayName': name, 'mailEnabled': False, 'securityEnabled': True,
                'mailNickname': base64.b32encode(name.encode()).decode()[:10].lower(),
                'groupTypes': ['DynamicMembership'] if rule else []}
        if rule:
            body.update(membershipRule=rule, membershipRuleProcessingState='On')
        if description is not None:
            body['description'] = description
        return self.call('POST', '/groups', body, version='v1.0')

    def esp(self, groups, **settings):
        esp = self.call('POST', CONFIGS, dict({'@odata.type': NS + 'windows10EnrollmentCompletionPageConfiguration'}, **settings))
        self.call('POST', '%s/%s/assign' % (CONFIGS, esp['id']), {'enrollmentConfigurationAssignments': [
            {'target': {'@odata.type': NS + 'groupAssignmentTarget', 'groupId': g['id']}} for g in groups]})
        return esp

    def profile(self, kind, assignments, **settings):
        profile = self.call('POST', PROFILES, dict({'@odata.type': NS + kind}, **settings))
        for target, group in assignments:
            body = {'@odata.type': NS + target}
            if group is not None:
                body['groupId'] = group['id']
            self.call('POST', '%s/%s/assignments' % (PROFILES, profile['id']), {'target': body})
        self.emu.advance(2)  # the next profile is younger (Intune applies the oldest one)
        return profile

    def import_devices(self, devices):
        records = [{'serialNumber': serial, 'groupTag': tag, 'productKey': '',
                    'hardwareIdentifier': base64.b64encode(('hardware hash of ' + serial).encode() * 4).decode()}
                   for serial, tag in devices]
        answer = self.call('POST', IMPORTS + '/import', {'importedWindowsAutopilotDeviceIdentities': records})
        self.emu.advance(5)
        for record in answer['value']:  # the portal's import records are temporary
            self.call('DELETE', '%s/%s' % (IMPORTS, record['id']))
        self.call('POST', '/deviceManagement/windowsAutopilotSettings/sync')  # then the portal lists the new devices
        self.wait_out('sync_duration')
        return dict((d['serialNumber'], d) for d in self.list(DEVICES))


def build_brownfield(graph):
    """The tenant as the portal would have left it; returns ``(set, id, label in EXPORT.md)`` of what the role cannot express."""
    apps = graph.list('/deviceAppManagement/mobileApps')
    portal = [a for a in apps if a['displayName'] == 'Company Portal' and a['@odata.type'].endswith('winGetApp')][0]
    vpn = [a for a in apps if a['displayName'] == 'Contoso VPN Client'][0]
    # The rule of Microsoft's older pages and of many scripts (-contains "[ZTDId]"); today's page writes
    # -startsWith "[ZTDid]" (memdocs autopilot/includes/create-dynamic-device-group.md). Both select every Autopilot device.
    every = graph.group('All Autopilot Devices', '(device.devicePhysicalIDs -any (_ -contains "[ZTDId]"))',
                        'Every Windows Autopilot device')
    hamburg = graph.group('AP Hamburg', '(device.devicePhysicalIds -any (_ -eq "[OrderID]:HAM"))', 'Hamburg laptops')
    # No description, as the portal leaves a group whose description field stayed empty (Graph returns null).
    munich = graph.group('AP Munich', '(device.devicePhysicalIds -any (_ -eq "[OrderID]:MUC"))')
    kiosks = graph.group('AP Vienna kiosks', '(device.devicePhysicalIds -any (_ -eq "[OrderID]:VIE-KIOSK"))', 'Kiosks')
    zurich = graph.group('AP Zurich', '(device.devicePhysicalIds -any (_ -eq "[OrderID]:ZRH"))', 'Zurich, not rolled out')
    order = graph.group('AP purchase order 4711', '(device.devicePhysicalIds -any (_ -eq "[PurchaseOrderId]:4711"))',
                        'Devices of one purchase order')
    graph.group('Sales users', '(user.department -eq "Sales")', 'Not an Autopilot group')
    pilot = graph.group('AP pilot ring', description='Devices that test the next profile')
    hybrid_group = graph.group('Hybrid join pilot', description='Hybrid join devices')
    graph.wait_out('group_assignment_delay', 'replication_delay')  # Intune learns of the new groups

    graph.esp([every], displayName='Corp Autopilot ESP', description='ESP of the Autopilot devices',
              showInstallationProgress=True, installProgressTimeoutInMinutes=120,
              customErrorMessage='Setup failed. Call the service desk on +49 40 1234-5678.',
              allowLogCollectionOnInstallFailure=True, trackInstallProgressForAutopilotOnly=True,
              blockDeviceSetupRetryByUser=False, installQualityUpdates=False, allowDeviceResetOnInstallFailure=True,
              allowDeviceUseOnInstallFailure=True, selectedMobileAppIds=[portal['id'], vpn['id']],
              disableUserStatusTrackingAfterFirstUser=True)
    kiosk_esp = graph.esp([kiosks], displayName='Kiosk ESP', description='Kiosks', showInstallationProgress=True,
                          installProgressTimeoutInMinutes=30, blockDeviceSetupRetryByUser=True)

    graph.profile('azureADWindowsAutopilotDeploymentProfile', [('allDevicesAssignmentTarget', None)],
                  displayName='Default user driven', description='', locale='os-default',
                  outOfBoxExperienceSetting={'deviceUsageType': 'singleUser', 'userType': 'standard'})
    graph.profile('azureADWindowsAutopilotDeploymentProfile',
                  [('groupAssignmentTarget', hamburg), ('exclusionGroupAssignmentTarget', pilot)],
                  displayName='Hamburg user driven', locale='de-DE',
                  # Jinja's delimiters in a description: the export writes it so that the role sends it as it is.
                  description='Hamburg, German setup; names like HAM-{{serial}}',
                  deviceNameTemplate='HAM-%SERIAL%', hardwareHashExtractionEnabled=True, deviceType='windowsPc',
                  outOfBoxExperienceSetting={'deviceUsageType': 'singleUser', 'userType': 'standard',
                                             'privacySettingsHidden': True, 'eulaHidden': True,
                                             'escapeLinkHidden': False, 'keyboardSelectionPageSkipped': True})
    # Written with the deprecated property names, as older scripts did; Graph returns both generations.
    graph.profile('azureADWindowsAutopilotDeploymentProfile', [('groupAssignmentTarget', munich)],
                  displayName='Munich user driven', description='Munich', language='os-default', enableWhiteGlove=True,
                  extractHardwareHash=False, outOfBoxExperienceSettings={
                      'deviceUsageType': 'singleUser', 'userType': 'administrator', 'hidePrivacySettings': False,
                      'hideEULA': True, 'hideEscapeLink': True, 'skipKeyboardSelectionPage': False})
    graph.profile('azureADWindowsAutopilotDeploymentProfile', [('groupAssignmentTarget', munich)],
                  displayName='Munich pilot', description='A newer profile on the Munich group', locale='en-US',
                  outOfBoxExperienceSetting={'deviceUsageType': 'singleUser', 'userType': 'standard'})
    graph.profile('azureADWindowsAutopilotDeploymentProfile', [('groupAssignmentTarget', kiosks)],
                  displayName='Vienna kiosk', description='Self-deploying', locale='de-AT',
                  outOfBoxExperienceSetting={'deviceUsageType': 'shared', 'privacySettingsHidden': True,
                                             'eulaHidden': True, 'keyboardSelectionPageSkipped': True})
    graph.profile('activeDirectoryWindowsAutopilotDeploymentProfile', [('groupAssignmentTarget', hybrid_group)],
                  displayName='Hybrid join pilot', description='Hybrid join',
                  outOfBoxExperienceSetting={'deviceUsageType': 'singleUser', 'userType': 'standard'})

    devices = graph.import_devices([('HAM0001', 'HAM'), ('HAM0002', 'HAM'), ('HAM0003', 'HAM'), ('MUC0001', 'MUC'),
                                    ('MUC0002', 'muc'), ('VIE0001', 'VIE-KIOSK'), ('ZRH0001', 'ZRH'),
                                    ('OLD0001', 'OLD'), ('NOTAG001', '')])
    graph.call('POST', '%s/%s/assignUserToDevice' % (DEVICES, devices['HAM0001']['id']),
               {'userPrincipalName': 'AlexW@contoso.onmicrosoft.com', 'addressableUserName': 'Alex (Hamburg)'})
    graph.call('POST', '%s/%s/updateDeviceProperties' % (DEVICES, devices['HAM0002']['id']), {'displayName': 'HAM-RECEPTION'})
    graph.emu.advance(10)  # Intune assigns the profiles: Entra fills the dynamic groups, then Intune assigns
    for delay in ('membership_processing_delay', 'profile_assignment_delay', 'profile_sync_delay'):
        graph.wait_out(delay)
    profiles = dict((p['displayName'], p) for p in graph.list(PROFILES))
    default_esp = [e for e in graph.list(CONFIGS) if e['id'].endswith('_DefaultWindows10EnrollmentCompletionPageConfiguration')][0]
    unmanaged = [('windowsAutopilotDeploymentProfiles', profiles[name]['id'], "profile '%s'" % name)
                 for name in ('Default user driven', 'Munich pilot', 'Vienna kiosk', 'Hybrid join pilot')]
    unmanaged += [('deviceEnrollmentConfigurations', esp['id'], "ESP '%s'" % esp['displayName']) for esp in (kiosk_esp, default_esp)]
    unmanaged += [('groups', group['id'], "group '%s'" % group['displayName']) for group in (kiosks, zurich, order)]
    unmanaged += [('windowsAutopilotDeviceIdentities', devices[serial]['id'], "serial '%s'" % serial)
                  for serial in ('VIE0001', 'ZRH0001', 'OLD0001', 'NOTAG001')]
    return unmanaged


def state_sets(emu):
    sets = emu.state().get('sets', {})
    return dict((k, list(v.values()) if isinstance(v, dict) else list(v)) for k, v in sets.items())


def by_id(state, kind, obj_id):
    found = [o for o in state[kind] if o.get('id') == obj_id]
    assert len(found) == 1, '%d %s with id %r in the emulator' % (len(found), kind, obj_id)
    return found[0]


def named(state, kind, name, key='displayName'):
    found = [o for o in state[kind] if o.get(key) == name]
    assert len(found) == 1, '%d %s named %r in the emulator' % (len(found), kind, name)
    return found[0]


def read_tree(folder):
    return dict((str(p.relative_to(folder)), p.read_bytes()) for p in sorted(Path(folder).rglob('*')) if p.is_file())


def load_yaml(path):
    class Loader(yaml.SafeLoader):
        pass
    Loader.add_constructor('!unsafe', lambda loader, node: loader.construct_scalar(node))
    return yaml.load(Path(path).read_text(), Loader=Loader)


def changed_or_failed(result):
    """Each task that changed or failed, as text: host, task, status, message and diff (what the module changes)."""
    return pprint.pformat([(t['host'], t['task'].split(' : ', 1)[-1], t['status'], (t['result'] or {}).get('msg'),
                            (t['result'] or {}).get('diff')) for t in result.tasks if t['status'] in ('changed', 'failed')])


class RoundTrip:
    """One emulator, one export and the role's runs on it; every run's result, writes and the state after it."""

    def __init__(self, emu, collections, workdir):
        self.emu, self.collections, self.workdir = emu, collections, Path(workdir)
        self.out = self.workdir / 'export'
        self.runs = {}

    def run(self, name, playbook, **kwargs):
        mark = self.emu.mark()
        result = harness.run_playbook(playbook, emulator=self.emu, collections_path=self.collections, **kwargs)
        self.runs[name] = (result, self.emu.writes_since(mark), state_sets(self.emu))
        return result

    def export(self, name, out=None, **kwargs):
        extra = dict({'export_dir': str(out or self.out)}, **kwargs.pop('extra_vars', {}))
        return self.run(name, EXPORT, extra_vars=extra, **kwargs)

    def role(self, name, inventory=None, **kwargs):
        return self.run(name, ROLE_PLAYBOOK, inventory=inventory or self.out / 'hosts.yml', extra_vars=dict(FAST), **kwargs)

    def round_trip(self):
        """Export twice, export --check into an empty folder, then the role --check and for real on the export."""
        self.export('export')
        self.first_files = read_tree(self.out)
        self.export('export_again')
        self.export('export_check', out=self.workdir / 'not-written', check=True, diff=True)
        self.role('check', check=True, diff=True)
        self.role('real')


def start(tmp_path_factory, collections_path, name):
    emu = harness.start_emulator('--import-delay', '1', workdir=tmp_path_factory.mktemp(name + '-emulator'))
    emu.control('PATCH', 'settings', {'profile_assignment_delay': 1})
    return emu, RoundTrip(emu, collections_path, tmp_path_factory.mktemp(name))


@pytest.fixture(scope='module')
def brownfield(tmp_path_factory, collections_path):
    emu, trip = start(tmp_path_factory, collections_path, 'brownfield')
    try:
        trip.unmanaged = build_brownfield(Graph(emu))
        trip.before = state_sets(emu)
        trip.round_trip()
        yield trip
    finally:
        emu.stop()


@pytest.fixture(scope='module')
def role_made(tmp_path_factory, collections_path):
    emu, trip = start(tmp_path_factory, collections_path, 'role-made')
    try:
        inventory = trip.workdir / 'example'
        shutil.copytree(str(EXAMPLE), str(inventory))
        trip.role('create', inventory=inventory / 'hosts.yml').assert_ok()
        trip.before = state_sets(emu)
        trip.export('export', extra_vars={'export_sites': {'BER': 'berlin', 'lys': 'lyon'}})
        trip.first_files = read_tree(trip.out)
        trip.role('check', check=True, diff=True)
        trip.role('real')
        yield trip
    finally:
        emu.stop()


# -- the export itself ----------------------------------------------------------------------------------------

@pytest.mark.parametrize('tenant', ['brownfield', 'role_made'])
def test_export_only_reads_graph_and_writes_the_inventory(request, tenant):
    trip = request.getfixturevalue(tenant)
    result, writes, _state = trip.runs['export']
    result.assert_ok()
    assert writes == [], 'the export wrote to Graph: %s' % [(w['method'], w['path']) for w in writes]
    names = set(trip.first_files)
    assert {'hosts.yml', 'group_vars/autopilot_sites.yml', 'EXPORT.md'} <= names
    hosts = load_yaml(trip.out / 'hosts.yml')['autopilot_sites']['hosts']
    assert names - {'hosts.yml', 'group_vars/autopilot_sites.yml', 'EXPORT.md'} == set('host_vars/%s.yml' % h for h in hosts)
    harness.assert_no_secret(result.output, trip.emu.client_secret)
    harness.assert_no_token(result.output)
    for path, content in trip.first_files.items():
        harness.assert_no_secret(content.decode(), trip.emu.client_secret, what='secret in %s' % path)
        harness.assert_no_token(content.decode())


def test_export_again_writes_the_same_bytes_and_check_writes_nothing(brownfield):
    again, writes, _state = brownfield.runs['export_again']
    again.assert_ok()
    assert writes == []
    assert again.changed == 0, changed_or_failed(again)
    assert read_tree(brownfield.out) == brownfield.first_files
    check, writes, _state = brownfield.runs['export_check']
    check.assert_ok()
    assert writes == []
    assert not (brownfield.workdir / 'not-written').exists()
    assert check.changed > 0  # it says what it would write
    assert '+++ after: %s/hosts.yml' % (brownfield.workdir / 'not-written') in check.output


def test_brownfield_sites_devices_and_users(brownfield):
    state = brownfield.before
    hosts = load_yaml(brownfield.out / 'hosts.yml')['autopilot_sites']['hosts']
    assert sorted(hosts) == ['ham', 'muc']
    ham = load_yaml(brownfield.out / 'host_vars' / 'ham.yml')
    muc = load_yaml(brownfield.out / 'host_vars' / 'muc.yml')
    assert ham['user_driven_join_group_tag'] == 'HAM' and muc['user_driven_join_group_tag'] == 'MUC'
    assert ham['user_driven_join_group_name'] == 'AP Hamburg'
    assert ham['user_driven_join_profile_name'] == 'Hamburg user driven'
    assert ham['user_driven_join_profile_description'] == 'Hamburg, German setup; names like HAM-{{serial}}'
    assert "user_driven_join_profile_description: !unsafe 'Hamburg" in (brownfield.out / 'host_vars' / 'ham.yml').read_text()
    assert muc['user_driven_join_profile_name'] == 'Munich user driven'  # the oldest profile on the group
    profile = named(state, 'windowsAutopilotDeploymentProfiles', 'Hamburg user driven')
    oobe = profile['outOfBoxExperienceSetting']
    assert (ham['user_driven_join_locale'], ham['user_driven_join_device_name_template']) == ('de-DE', 'HAM-%SERIAL%')
    assert ham['user_driven_join_escape_link_hidden'] is oobe['escapeLinkHidden'] is False
    assert ham['user_driven_join_hardware_hash_extraction_enabled'] is True
    assert ham['user_driven_join_profile_assignments'] == [{'group': 'AP Hamburg'}, {'group': 'AP pilot ring', 'exclude': True}]
    # Munich's profile was written with the deprecated names: read back under the role's variables.
    assert muc['user_driven_join_user_type'] == 'administrator'
    assert muc['user_driven_join_preprovisioning_allowed'] is True
    assert muc['user_driven_join_keyboard_selection_page_skipped'] is False
    assert muc['user_driven_join_device_name_template'] == ''
    # Devices: every device with the tag, without case; the own tag kept where its case differs from the site's.
    assert ham['user_driven_join_devices'] == [{'serial_number': 'HAM0001'},
                                               {'serial_number': 'HAM0002', 'display_name': 'HAM-RECEPTION'},
                                               {'serial_number': 'HAM0003'}]
    assert muc['user_driven_join_devices'] == [{'serial_number': 'MUC0001'}, {'serial_number': 'MUC0002', 'group_tag': 'muc'}]
    assert ham['user_driven_join_users'] == [{'serial_number': 'HAM0001', 'assigned_user': 'AlexW@contoso.onmicrosoft.com',
                                              'addressable_user_name': 'Alex (Hamburg)'}]
    assert muc['user_driven_join_users'] == []
    assert all('hardware_identifier' not in d for d in ham['user_driven_join_devices'] + muc['user_driven_join_devices'])


def test_brownfield_tenant_settings(brownfield):
    state = brownfield.before
    tenant = load_yaml(brownfield.out / 'group_vars' / 'autopilot_sites.yml')
    esp = named(state, 'deviceEnrollmentConfigurations', 'Corp Autopilot ESP')
    assert tenant['user_driven_join_tenant_group_name'] == 'All Autopilot Devices'
    assert tenant['user_driven_join_esp_name'] == 'Corp Autopilot ESP'
    assert tenant['user_driven_join_esp_install_progress_timeout_in_minutes'] == 120
    assert tenant['user_driven_join_esp_install_quality_updates'] is False
    assert tenant['user_driven_join_esp_custom_error_message'] == esp['customErrorMessage']
    assert tenant['user_driven_join_esp_priority'] == esp['priority'] == 1
    assert tenant['user_driven_join_esp_assignments'] == [{'group': 'All Autopilot Devices'}]
    # Apps by id: 'Company Portal' is the name of two apps, so a name would not resolve.
    assert tenant['user_driven_join_esp_selected_apps'] == esp['selectedMobileAppIds']
    text = (brownfield.out / 'group_vars' / 'autopilot_sites.yml').read_text()
    assert '%s: Company Portal' % esp['selectedMobileAppIds'][0] in text


def test_brownfield_export_md_lists_what_the_role_cannot_express(brownfield):
    text = (brownfield.out / 'EXPORT.md').read_text()
    for _kind, _obj_id, label in brownfield.unmanaged:
        assert '| %s |' % label in text, '%s is not in EXPORT.md' % label
    assert 'disableUserStatusTrackingAfterFirstUser' in text  # a setting of the managed ESP the role leaves alone
    assert 'self-deploying' in text and 'hybrid join' in text
    assert "Group tag 'OLD' belongs to no site" in text and 'No group tag' in text


@pytest.mark.parametrize('run', ['check', 'real'])
@pytest.mark.parametrize('tenant', ['brownfield', 'role_made'])
def test_the_role_on_the_export_changes_nothing_and_writes_nothing(request, tenant, run):
    """The round trip: the role's --check (then its real run) on the exported inventory, against the same tenant."""
    result, writes, _state = request.getfixturevalue(tenant).runs[run]
    assert result.rc == 0 and result.failed == 0, changed_or_failed(result) or result.output[-4000:]
    assert result.changed == 0, changed_or_failed(result)
    assert writes == [], [(w['method'], w['path']) for w in writes]


def test_what_the_role_cannot_express_is_unchanged(brownfield):
    for run in ('check', 'real'):
        after = brownfield.runs[run][2]
        for kind, obj_id, label in brownfield.unmanaged:
            assert by_id(after, kind, obj_id) == by_id(brownfield.before, kind, obj_id), '%s changed by the %s run' % (label, run)


def test_role_made_tenant_exports_the_example_inventory(role_made):
    hosts = load_yaml(role_made.out / 'hosts.yml')['autopilot_sites']['hosts']
    assert sorted(hosts) == ['berlin', 'lyon']  # named with export_sites (tags compared without case)
    example = dict((site, load_yaml(EXAMPLE / 'host_vars' / ('%s.yml' % site))) for site in hosts)
    shared = load_yaml(EXAMPLE / 'group_vars' / 'autopilot_sites.yml')
    tenant = load_yaml(role_made.out / 'group_vars' / 'autopilot_sites.yml')
    for var in ('user_driven_join_esp_name', 'user_driven_join_esp_install_progress_timeout_in_minutes',
                'user_driven_join_esp_custom_error_message'):
        assert tenant[var] == shared[var]
    state = role_made.before
    for site, wanted in example.items():
        got = load_yaml(role_made.out / 'host_vars' / ('%s.yml' % site))
        for var in ('user_driven_join_group_tag', 'user_driven_join_device_name_template', 'user_driven_join_locale'):
            assert got[var] == wanted[var]
        serials = sorted(d['serialNumber'] for d in state['windowsAutopilotDeviceIdentities']
                         if d['groupTag'] == wanted['user_driven_join_group_tag'])
        assert [d['serial_number'] for d in got['user_driven_join_devices']] == serials
    assert 'Problems' not in (role_made.out / 'EXPORT.md').read_text()


# -- options ----------------------------------------------------------------------------------------------------

def test_bad_site_names_fail_before_anything_is_written(role_made):
    out = role_made.workdir / 'bad'
    result = role_made.export('bad', out=out, extra_vars={'export_sites': 'BER=berlin,XYZ=zurich,LYS=a b'})
    assert result.rc != 0
    assert "no site has the group tag 'XYZ'" in result.output
    assert "site name 'a b'" in result.output
    assert not out.exists()


def test_a_site_gone_from_the_tenant_loses_its_host_vars(role_made):
    out = role_made.workdir / 'renamed'
    role_made.export('named', out=out, extra_vars={'export_sites': 'BER=berlin'}).assert_ok()
    own = out / 'host_vars' / 'mine.yml'
    own.write_text('---\nuser_driven_join_locale: en-GB\n')  # a file of the user's, not the export's
    result = role_made.export('renamed', out=out)
    result.assert_ok()
    assert sorted(p.name for p in (out / 'host_vars').iterdir()) == ['ber.yml', 'lys.yml', 'mine.yml']
    assert sorted(load_yaml(out / 'hosts.yml')['autopilot_sites']['hosts']) == ['ber', 'lys']


def test_a_listed_device_no_longer_registered_fails_naming_it_before_any_write(role_made):
    """A device of the export that was deleted since: without a hash the role cannot import it again, so the
    devices step fails, naming the serial, and nothing is written (the other site is unaffected, or stopped with it by
    the role's preflight). Last: it changes the tenant."""
    graph = Graph(role_made.emu)
    gone = [d for d in graph.list(DEVICES) if d['serialNumber'] == 'PF4KX3M1'][0]
    graph.call('DELETE', '%s/%s' % (DEVICES, gone['id']))
    result = role_made.role('deleted')
    writes = role_made.runs['deleted'][1]
    assert result.rc != 0
    assert result.stats['lyon']['failures'] == 1
    # The other site: unaffected, or stopped by the role's preflight because of lyon (its default once the preflight
    # checks every site before the first write: "no site of this play writes anything").
    assert result.stats['berlin']['failures'] == 0 or "but site(s) lyon have" in result.output, result.output[-3000:]
    assert "serial 'PF4KX3M1' is not registered and no hardware_identifier is given to import it" in result.output
    assert writes == [], [(w['method'], w['path']) for w in writes]

# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's preflight: every site of the play is checked before the first write, against the emulator.

Each test builds its own inventory of sites, runs the real playbook (playbooks/user_driven_join.yml) and verifies
the emulator's request log (no write at all when a site has a problem) and state, and the failure message of each
site (the task result, as the test callback records it).
"""

import base64
import hashlib

import pytest

from tests.integration import harness

PLAYBOOK = harness.REPO_ROOT / 'playbooks' / 'user_driven_join.yml'
PREFLIGHT = 'Preflight - every problem of every site, before the first write'
FAST = {'user_driven_join_poll_interval': 1, 'user_driven_join_wait_timeout': 120}


def hardware_hash(serial):
    """A well-formed hardware hash (base64 of 256 bytes), different for every serial."""
    return base64.b64encode(hashlib.sha512(serial.encode()).digest() * 4).decode()


def device(serial, **extra):
    return dict(serial_number=serial, hardware_identifier=hardware_hash(serial), **extra)


def sites(**hosts):
    return {'autopilot_sites': {'hosts': hosts}}


@pytest.fixture(scope='module')
def emu(tmp_path_factory):
    started = harness.start_emulator('--import-delay', '1', workdir=tmp_path_factory.mktemp('preflight-emulator'))
    yield started
    started.stop()


@pytest.fixture
def tenant(emu):
    emu.reset()
    emu.control('PATCH', 'settings', {'profile_assignment_delay': 1})
    return emu


def run(tenant, collections_path, inventory, **kwargs):
    extra = dict(FAST)
    extra.update(kwargs.pop('extra_vars', None) or {})
    return harness.run_playbook(PLAYBOOK, emulator=tenant, collections_path=collections_path, inventory=inventory,
                                extra_vars=extra, **kwargs)


def preflight_messages(result):
    """``{host: message}`` of the preflight's failures (the one task that stops a site)."""
    failed = [t for t in result.tasks if t['status'] == 'failed' and not t.get('ignored')]
    assert failed, result.output
    assert set(t['task'].split(' : ', 1)[-1] for t in failed) == {PREFLIGHT}, [t['task'] for t in failed]
    return dict((t['host'], t['result']['msg']) for t in failed)


def test_three_sites_a_misspelled_variable_and_a_bad_csv_row_stop_the_play_before_any_write(tenant, collections_path,
                                                                                            tmp_path):
    csv = tmp_path / 'berlin.csv'
    csv.write_text('Device Serial Number,Windows Product ID,Hardware Hash\n'
                   'BER0001,,%s\n'
                   'BER0002,,not*base64\n' % hardware_hash('BER0001'))
    inventory = sites(
        berlin={'user_driven_join_group_tag': 'BER', 'user_driven_join_devices_csv': str(csv)},
        lyon={'user_driven_join_grouptag': 'LYS', 'user_driven_join_devices': [device('LYS0001')]},
        paris={'user_driven_join_group_tag': 'PAR', 'user_driven_join_devices': [device('PAR0001')]})
    mark = tenant.mark()
    result = run(tenant, collections_path, inventory)
    assert result.rc != 0
    assert tenant.writes_since(mark) == [], [(w['method'], w['path']) for w in tenant.writes_since(mark)]
    messages = preflight_messages(result)
    assert set(messages) == {'berlin', 'lyon', 'paris'}
    assert "%s line 3 (serial 'BER0002'): the hardware hash is not valid base64" % csv in messages['berlin']
    assert '[devices]' in messages['berlin'] and 'lyon' not in messages['berlin'].split('problem(s)')[0]
    assert 'unknown variable(s) user_driven_join_grouptag' in messages['lyon']
    assert 'BER0002' not in messages['lyon']
    assert messages['paris'].startswith('Preflight: site paris has no problem, but site(s) berlin, lyon have')
    # Nothing after the preflight ran: no step, no summary.
    assert not [t for t in result.tasks if t['task'].endswith(("group tag", "priority", "device group"))]


def test_check_reports_a_device_tag_that_no_profile_targets(tenant, collections_path):
    """The device's own group tag differs from its site's: it would never get the site's profile."""
    inventory = sites(berlin={'user_driven_join_group_tag': 'BER', 'user_driven_join_devices': [
        device('BER0001'), device('BER0002', group_tag='BRE')]})
    mark = tenant.mark()
    result = run(tenant, collections_path, inventory, check=True)
    assert result.rc != 0
    assert tenant.writes_since(mark) == []
    message = preflight_messages(result)['berlin']
    assert ("serial(s) BER0002: group tag 'BRE' matches no group this run assigns a deployment profile to (those "
            "select ber)") in message
    assert 'user_driven_join_tags_without_profile' in message and 'BER0001' not in message

    allowed = run(tenant, collections_path, inventory, check=True,
                  extra_vars={'user_driven_join_tags_without_profile': ['BRE']})
    allowed.assert_ok()
    assert tenant.writes_since(mark) == []


def test_rules_across_sites_are_all_named_in_one_check(tenant, collections_path):
    """A tenant-wide variable set in one site, one serial in two sites, a group neither existing nor created, and a
    user for a serial no site imports: one --check names them all, and the check fails as the real run would."""
    inventory = sites(
        berlin={'user_driven_join_group_tag': 'BER', 'user_driven_join_devices': [device('SHARED01')],
                'user_driven_join_profile_assignments': [{'group': 'Autopilot devices - berlin'},
                                                         {'group': 'Kiosk devices'}]},
        lyon={'user_driven_join_group_tag': 'LYS', 'user_driven_join_esp_priority': 2,
              'user_driven_join_devices': [device('SHARED01')],
              'user_driven_join_users': [{'serial_number': 'NOWHERE1', 'assigned_user': 'AdeleV@contoso.onmicrosoft.com'}]})
    mark = tenant.mark()
    result = run(tenant, collections_path, inventory, check=True)
    assert result.rc != 0
    assert tenant.writes_since(mark) == []
    messages = preflight_messages(result)
    tenant_wide = 'user_driven_join_esp_priority is tenant-wide but differs between sites: 1 in berlin; 2 in lyon'
    assert tenant_wide in messages['berlin'] and tenant_wide in messages['lyon']
    assert 'serial(s) SHARED01 are devices of site lyon too' in messages['berlin']
    assert 'serial(s) SHARED01 are devices of site berlin too' in messages['lyon']
    assert ("user_driven_join_profile_assignments: no group named 'Kiosk devices' exists, and the role does not "
            "create it") in messages['berlin']
    assert 'Kiosk devices' not in messages['lyon']
    assert "user_driven_join_users: serial(s) NOWHERE1 are not registered and no site of this run imports them" in \
        messages['lyon']


def test_a_tenant_wide_variable_of_one_site_is_named_when_the_play_is_limited_to_it(tenant, collections_path):
    """Set in lyon's host_vars, the ESP name would only apply with --limit lyon, creating a second ESP that competes
    with the other sites' for priority 1 on every run: the limited play names the site left out."""
    inventory = {'autopilot_sites': {
        'vars': {'user_driven_join_esp_name': 'Contoso Autopilot ESP'},
        'hosts': {'berlin': {'user_driven_join_group_tag': 'BER'},
                  'lyon': {'user_driven_join_group_tag': 'LYS', 'user_driven_join_esp_name': 'Lyon ESP'}}}}
    mark = tenant.mark()
    result = run(tenant, collections_path, inventory, check=True, extra_vars={'user_driven_join_target': 'lyon'})
    assert result.rc != 0
    assert tenant.writes_since(mark) == []
    assert ('user_driven_join_esp_name is tenant-wide but site berlin, left out of this play (--limit), sets '
            '"Contoso Autopilot ESP" while this play writes "Lyon ESP"') in preflight_messages(result)['lyon']


def test_healthy_sites_go_on_when_told(tenant, collections_path):
    """user_driven_join_preflight_stop_play: false - the site with a problem writes nothing, the healthy one converges."""
    inventory = sites(
        berlin={'user_driven_join_group_tag': 'BER', 'user_driven_join_devices': [device('BER0001')]},
        lyon={'user_driven_join_group_tag': 'LYS', 'user_driven_join_device_name_template': 'LYS-%RAND:99%'})
    told = {'user_driven_join_preflight_stop_play': False, 'user_driven_join_wait_for_profile': False}
    result = run(tenant, collections_path, inventory, extra_vars=told)
    assert result.rc != 0
    messages = preflight_messages(result)
    assert list(messages) == ['lyon']
    assert '[profile] user_driven_join_device_name_template' in messages['lyon']
    state = tenant.state()
    names = set(g['displayName'] for g in state['sets']['groups'].values())
    assert 'Autopilot devices - berlin' in names and 'Autopilot devices - lyon' not in names
    profiles = [p['displayName'] for p in state['sets']['windowsAutopilotDeploymentProfiles'].values()]
    assert profiles == ['User driven Entra join berlin']
    assert [d['serialNumber'] for d in state['sets']['windowsAutopilotDeviceIdentities'].values()] == ['BER0001']


def test_string_booleans_and_numbers_from_extra_vars(tenant, collections_path):
    """-e key=value and AWX surveys give strings: "false" must be false everywhere, "2" a number."""
    inventory = sites(berlin={'user_driven_join_group_tag': 'BER', 'user_driven_join_devices': [device('BER0001')]})
    strings = {'user_driven_join_wait_for_profile': 'false', 'user_driven_join_esp_install_quality_updates': 'false',
               'user_driven_join_esp_install_progress_timeout_in_minutes': '45', 'user_driven_join_poll_interval': '1',
               'user_driven_join_preflight_stop_play': 'true', 'user_driven_join_cleanup_import_records': 'false'}
    result = run(tenant, collections_path, inventory, extra_vars=strings)
    result.assert_ok()
    ran = [t['task'].split(' : ', 1)[-1] for t in result.tasks if t['status'] != 'skipped']
    assert "Wait until the site's devices have their deployment profile assigned" not in ran
    state = tenant.state()
    esp = [e for e in state['sets']['deviceEnrollmentConfigurations'].values()
           if e.get('displayName') == 'Autopilot user-driven ESP']
    assert [(e['installQualityUpdates'], e['installProgressTimeoutInMinutes']) for e in esp] == [(False, 45)]
    # cleanup_import_records "false": the import record of the run is left in the tenant
    assert [r['serialNumber'] for r in state['sets']['importedWindowsAutopilotDeviceIdentities'].values()] == ['BER0001']
    summary = result.task('intune.autopilot.user_driven_join : Summary of the site, one line per step', host='berlin')
    assert 'devices: 1 imported (of 1)' in summary['msg'] and 'profile_wait: not run' in summary['msg']

# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight and summary filters of the role user_driven_join, on hostvars as the role leaves them."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.intune.autopilot.plugins.filter.user_driven_join import (
    in_role_terms, normalized, preflight_lookups, preflight_report, step_summary,
)

STEPS = ['group', 'esp', 'profile', 'devices', 'profile_wait', 'users']


def site(name, tag, **extra):
    facts = {'unknown': [], 'steps': STEPS, 'tenant_wide': {'user_driven_join_esp_priority': 1},
             'tenant_group_name': 'Autopilot devices', 'group_name': 'Autopilot devices - %s' % name, 'group_tag': tag,
             'esp_assignments': [{'group': 'Autopilot devices'}],
             'profile_assignments': [{'group': 'Autopilot devices - %s' % name}], 'esp_apps': False,
             'has_devices': True, 'device_users': False, 'has_users': False, 'tags_without_profile': [], 'stop_play': True}
    facts.update(extra)
    return {'__user_driven_join_site': facts}


def devices(*pairs, **result):
    result.setdefault('devices', [{'serial_number': s, 'action': 'imported', 'device': {'serialNumber': s, 'groupTag': t}}
                                  for s, t in pairs])
    return result


def test_module_option_names_become_role_variables():
    names = {'devices': 'user_driven_join_users', 'out_of_box_experience_setting.user_type': 'user_driven_join_user_type'}
    assert in_role_terms("devices[3] (serial 'X'): bad", names) == "user_driven_join_users[3] (serial 'X'): bad"
    assert in_role_terms('out_of_box_experience_setting.user_type must be', names) == 'user_driven_join_user_type must be'
    # part of another word or already a role variable: left alone
    assert in_role_terms('user_driven_join_devices[0] and no_devices', names) == 'user_driven_join_devices[0] and no_devices'


def test_strings_from_extra_vars_compare_as_their_values():
    assert normalized('false') is False and normalized(' Yes ') is True and normalized('2') == 2
    assert normalized('BER') == 'BER' and normalized(1) == 1


def test_every_site_problem_named_and_healthy_sites_stop_with_them():
    hostvars = {
        'berlin': dict(site('berlin', 'BER'), __user_driven_join_devices_result={
            'failed': True, 'msg': '2 problems', 'problems': ['/x/berlin.csv line 3: bad hash', 'devices[0]: empty']}),
        'lyon': dict(site('lyon', 'LYS', unknown=['user_driven_join_grouptag']),
                     __user_driven_join_devices_result=devices(('LYS1', 'LYS'))),
        'paris': dict(site('paris', 'PAR'), __user_driven_join_devices_result=devices(('PAR1', 'PAR'))),
    }
    report = preflight_report(hostvars, ['berlin', 'lyon', 'paris'], ['berlin', 'lyon', 'paris'])
    assert report['sites']['berlin'] == ['[devices] /x/berlin.csv line 3: bad hash',
                                         '[devices] user_driven_join_devices[0]: empty']
    assert report['sites']['lyon'][0].startswith('unknown variable(s) user_driven_join_grouptag')
    assert report['sites']['paris'] == [] and report['play'] == []
    assert report['stop'] == {'berlin': True, 'lyon': True, 'paris': True}
    assert report['message']['paris'].startswith('Preflight: site paris has no problem, but site(s) berlin, lyon have')
    assert '(1) [devices] /x/berlin.csv line 3' in report['message']['berlin']


def test_stop_play_false_lets_a_healthy_site_go_on_and_a_dropped_site_stops_the_others():
    hostvars = {'berlin': dict(site('berlin', 'BER', stop_play='false'), __user_driven_join_devices_result=devices(('B1', 'BER'))),
                'lyon': dict(site('lyon', 'LYS', unknown=['user_driven_join_x']))}
    report = preflight_report(hostvars, ['berlin', 'lyon'], ['berlin', 'lyon'])
    assert report['stop'] == {'berlin': False, 'lyon': True}
    # paris failed its argument check before the preflight: the others stop (stop_play is true for lyon)
    hostvars['berlin']['__user_driven_join_site']['stop_play'] = True
    report = preflight_report(hostvars, ['berlin', 'lyon', 'paris'], ['berlin', 'lyon'])
    assert report['dropped'] == ['paris'] and report['stop']['berlin'] is True
    assert 'paris stopped before the preflight' in report['message']['berlin']


def test_rules_across_sites():
    hostvars = {
        'berlin': dict(site('berlin', 'BER', profile_assignments=[{'group': 'Autopilot devices - berlin'},
                                                                  {'group': 'Kiosk', 'exclude': True},
                                                                  {'group': 'Missing group'}]),
                       __user_driven_join_devices_result=devices(('S1', 'BER'), ('S2', 'XYZ'))),
        'lyon': dict(site('lyon', 'LYS', tenant_wide={'user_driven_join_esp_priority': '2'}),
                     __user_driven_join_devices_result=devices(('s1', 'LYS')),
                     __user_driven_join_users_result=devices(('NOPE', ''), ('S1', ''))),
    }
    assert preflight_lookups(hostvars, ['berlin', 'lyon'], ['berlin', 'lyon'])['groups'] == [{'name': 'Missing group', 'id': False}]
    report = preflight_report(hostvars, ['berlin', 'lyon'], ['berlin', 'lyon'])
    assert any('user_driven_join_esp_priority is tenant-wide but differs between sites: 1 in berlin; 2 in lyon' in p
               for p in report['play'])
    berlin, lyon = ' | '.join(report['sites']['berlin']), ' | '.join(report['sites']['lyon'])
    assert 'serial(s) S1 are devices of site lyon too' in berlin and 'serial(s) s1 are devices of site berlin too' in lyon
    assert "no group named 'Missing group' exists" in berlin and 'Kiosk' not in berlin
    # 'Missing group' is not in the tenant (reported above): no tag is held against it
    assert 'XYZ' not in berlin
    assert 'user_driven_join_users: serial(s) NOPE are not registered' in lyon and 'S1 are not registered' not in lyon


def test_a_tag_no_profile_targets_unless_allowed():
    found = devices(('S1', 'BER'), ('S2', 'ber'), ('S3', 'XYZ'), ('S4', ''))
    hostvars = {'berlin': dict(site('berlin', 'BER'), __user_driven_join_devices_result=found)}
    problems = preflight_report(hostvars, ['berlin'], ['berlin'])['sites']['berlin']
    assert [p.split(' matches')[0] for p in problems] == ["serial(s) S4: group tag ''", "serial(s) S3: group tag 'XYZ'"]
    hostvars['berlin']['__user_driven_join_site']['tags_without_profile'] = ['xyz', '']
    assert preflight_report(hostvars, ['berlin'], ['berlin'])['sites']['berlin'] == []
    hostvars['berlin']['__user_driven_join_site']['tags_without_profile'] = []
    hostvars['berlin']['__user_driven_join_site']['profile_assignments'] = [{'all_devices': 'true'}]
    assert preflight_report(hostvars, ['berlin'], ['berlin'])['sites']['berlin'] == []


def test_an_existing_group_of_the_tenant_counts_with_the_tag_its_rule_selects():
    found = devices(('S1', 'MUC'), ('S2', 'BER'))
    assigned = [{'group': 'Munich devices'}]
    looked = {'results': [{'groups': [{'id': 'g1', 'displayName': 'Munich devices',
                                       'membershipRule': 'device.devicePhysicalIds -any _ -eq "[OrderID]:muc"'}]}]}
    hostvars = {'berlin': dict(site('berlin', 'BER', profile_assignments=assigned), __user_driven_join_devices_result=found,
                               __user_driven_join_groups_found=looked)}
    problems = preflight_report(hostvars, ['berlin'], ['berlin'])['sites']['berlin']
    assert [p.split(' matches')[0] for p in problems] == ["serial(s) S2: group tag 'BER'"]
    assert 'those select muc' in problems[0]
    # an assigned group, or a rule that selects no single tag, may hold any device: nothing is held against the tags
    for rule in (None, 'device.model -eq "Surface Laptop 5"', '(device.devicePhysicalIDs -any (_ -contains "[ZTDId]"))'):
        looked['results'][0]['groups'][0]['membershipRule'] = rule
        assert preflight_report(hostvars, ['berlin'], ['berlin'])['sites']['berlin'] == []


def test_step_summary_lines():
    assert step_summary({'skipped': True}, 'users') == 'users: not run'
    assert step_summary({'changed': True, 'diff': {'before': {}, 'after': {'a': 1}}}, 'profile') == 'profile: created'
    assert step_summary({'changed': True, 'diff': {'before': {'a': 0}}}, 'esp') == 'esp: updated'
    assert step_summary({'changed': False}, 'esp') == 'esp: unchanged'
    counts = {'devices': [], 'summary': {'imported': 2, 'pending': 1, 'unchanged': 0, 'total': 3}}
    assert step_summary(counts, 'devices') == 'devices: 2 imported, 1 still waiting (of 3)'
    waited = {'failed': True, 'msg': 'Timed out', 'summary': {'total': 3}, 'devices': [
        {'action': 'unchanged', 'device': {'deploymentProfileAssignmentStatus': 'assignedInSync'}},
        {'action': 'unchanged', 'device': {'deploymentProfileAssignmentStatus': 'pending'}},
        {'action': 'failed', 'device': {}}]}
    assert step_summary(waited, 'profile_wait') == 'profile_wait: 1 assigned, 1 failed, 1 still waiting (of 3) - Timed out'


def test_a_site_left_out_of_the_play_that_sets_a_tenant_wide_variable_otherwise():
    hostvars = {'lyon': dict(site('lyon', 'LYS', tenant_wide={'user_driven_join_esp_name': 'Lyon ESP'}),
                             group_names=['autopilot_sites']),
                'berlin': {'group_names': ['autopilot_sites'], 'user_driven_join_esp_name': 'Contoso ESP'},
                'other-tenant': {'group_names': ['autopilot_sites'], 'user_driven_join_tenant_id': 'x',
                                 'user_driven_join_esp_name': 'Fabrikam ESP'},
                'elsewhere': {'group_names': ['kiosks'], 'user_driven_join_esp_name': 'Kiosk ESP'}}
    play = preflight_report(hostvars, ['lyon'], ['lyon'])['play']
    assert play == ['user_driven_join_esp_name is tenant-wide but site berlin, left out of this play (--limit), sets '
                    '"Contoso ESP" while this play writes "Lyon ESP"; the sites would undo each other\'s run: set it '
                    'once for all sites (group_vars)']

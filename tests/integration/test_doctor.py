# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``intune.autopilot.doctor`` (playbooks/doctor.yml, module tenant_readiness) and the readiness part of the role's
preflight, against the emulator: apps registered with chosen application permissions (``POST /_emulator/apps``),
and a tenant without Intune (the emulator setting ``intune_licensed``). Every run must leave the request log
without a single write.
"""

import pytest

from tests.graph_emulator.auth import DEFAULT_ROLES
from tests.integration import harness

DOCTOR = harness.REPO_ROOT / 'playbooks' / 'doctor.yml'
ROLE_PLAYBOOK = harness.REPO_ROOT / 'playbooks' / 'user_driven_join.yml'
TABLE = 'What is ready and what to fix'


@pytest.fixture
def tenant(emulator):
    emulator.reset()
    return emulator


def app_without(emu, *missing):
    """Environment for an app holding every permission the collection needs except ``missing``."""
    app = emu.control('POST', 'apps', {'roles': [r for r in DEFAULT_ROLES if r not in missing]})
    return {'AZURE_CLIENT_ID': app['client_id'], 'AZURE_CLIENT_SECRET': app['secret']}


def doctor(tenant, run_playbook, env=None):
    mark = tenant.mark()
    result = run_playbook(DOCTOR, emulator=tenant, env_extra=env)
    assert tenant.writes_since(mark) == [], [(w['method'], w['path']) for w in tenant.writes_since(mark)]
    table = result.task(TABLE)['msg']
    rows = dict((line.split()[0], line) for line in table[1:])
    result.graph_requests = [r for r in tenant.requests_since(mark) if r['path'].startswith(('/beta/', '/v1.0/'))]
    return result, table, rows


def test_the_demo_tenant_is_ready(tenant, run_playbook):
    result, table, rows = doctor(tenant, run_playbook)
    result.assert_ok()
    assert 'Ready - the app can run every step checked, and Intune answers.' in result.output
    assert table[0].split()[:3] == ['check', 'status', 'steps']
    assert rows['token'].split()[1] == 'ready' and rows['Intune'].split()[1] == 'ready'
    for permission in ('Group.ReadWrite.All', 'DeviceManagementServiceConfig.ReadWrite.All', 'User.Read.All'):
        assert rows[permission].split()[1] == 'ready', table
    # Only reads reached Graph: the probes, one per permission to read.
    assert result.graph_requests and set(r['method'] for r in result.graph_requests) == {'GET'}


@pytest.mark.parametrize('missing, permission, steps', [
    (('Group.ReadWrite.All',), 'Group.ReadWrite.All', 'group'),
    (('DeviceManagementServiceConfig.ReadWrite.All', 'DeviceManagementServiceConfig.Read.All'),
     'DeviceManagementServiceConfig.ReadWrite.All', 'esp, profile, devices, users'),
])
def test_a_missing_permission_is_named_with_the_steps_that_need_it(tenant, run_playbook, missing, permission, steps):
    result, table, rows = doctor(tenant, run_playbook, env=app_without(tenant, *missing))
    assert result.rc != 0
    assert rows[permission].split()[1] == 'missing', table
    assert ('the app lacks the Microsoft Graph application permission %s (with admin consent), which step(s) %s need'
            % (permission, steps)) in result.output
    assert rows['token'].split()[1] == 'ready'


def test_a_tenant_without_intune_is_named(tenant, run_playbook):
    tenant.control('PATCH', 'settings', {'intune_licensed': False})
    result, table, rows = doctor(tenant, run_playbook)
    assert result.rc != 0
    assert rows['Intune'].split()[1:3] == ['not', 'licensed'], table
    assert 'Request not applicable to target tenant.' in rows['Intune']
    assert rows['Group.ReadWrite.All'].split()[1] == 'ready'


def test_the_role_stops_every_site_before_any_write_when_the_app_lacks_a_permission(tenant, run_playbook):
    inventory = {'autopilot_sites': {'hosts': {'berlin': {'user_driven_join_group_tag': 'BER'},
                                               'lyon': {'user_driven_join_group_tag': 'LYS'}}}}
    mark = tenant.mark()
    result = run_playbook(ROLE_PLAYBOOK, emulator=tenant, inventory=inventory,
                          env_extra=app_without(tenant, 'Group.ReadWrite.All'))
    assert result.rc != 0
    assert tenant.writes_since(mark) == []
    failed = dict((t['host'], t['result']['msg']) for t in result.tasks if t['status'] == 'failed' and not t['ignored'])
    assert set(failed) == {'berlin', 'lyon'}
    for message in failed.values():
        assert '[tenant] the app lacks the Microsoft Graph application permission Group.ReadWrite.All' in message


def test_a_token_that_cannot_be_had_is_one_problem_for_every_site_and_no_step_is_checked(tenant, run_playbook):
    inventory = {'autopilot_sites': {'hosts': {'berlin': {}, 'lyon': {}}}}
    mark = tenant.mark()
    result = run_playbook(ROLE_PLAYBOOK, emulator=tenant, inventory=inventory, check=True,
                          env_extra={'AZURE_CLIENT_SECRET': 'not-the-secret'})
    assert result.rc != 0
    failed = dict((t['host'], t['result']['msg']) for t in result.tasks if t['status'] == 'failed' and not t['ignored'])
    assert set(failed) == {'berlin', 'lyon'}
    for message in failed.values():
        assert 'has 1 problem(s)' in message and '(1) [tenant] no token: ' in message
        assert 'AADSTS7000215' in message
    assert not [t for t in result.tasks if t['task'].endswith('assigned to its device group') and t['status'] != 'skipped']
    assert [r for r in tenant.requests_since(mark) if r['path'].startswith(('/beta/', '/v1.0/'))] == []

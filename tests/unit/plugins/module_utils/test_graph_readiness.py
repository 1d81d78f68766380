# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run needs of the tenant: the permission rows, how probes and the roles claim judge them, the table."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json

from ansible_collections.intune.autopilot.plugins.module_utils._graph_readiness import (
    holds, intune_status, judge, plan, problems, report, token_claims,
)

GROUPS = ('GET', '/groups', 'v1.0')
ESPS = ('GET', '/deviceManagement/deviceEnrollmentConfigurations', 'beta')


def jwt(claims):
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip('=')
    return 'eyJhbGciOiJIUzI1NiJ9.%s.c2ln' % body


def rows_by_permission(rows):
    return dict((r['permission'], r) for r in rows)


def test_each_step_needs_the_permissions_of_its_calls():
    rows = rows_by_permission(plan(['group', 'esp']))
    assert sorted(rows) == ['DeviceManagementServiceConfig.Read.All', 'DeviceManagementServiceConfig.ReadWrite.All',
                            'Group.Read.All', 'Group.ReadWrite.All']
    assert rows['Group.Read.All']['steps'] == ['group', 'esp'] and rows['Group.Read.All']['read'] == GROUPS
    assert rows['Group.ReadWrite.All']['read'] is None
    assert sorted(rows_by_permission(plan(['esp_apps']))) == ['DeviceManagementApps.Read.All']


def test_higher_permissions_grant_the_lower_ones():
    assert holds({'Group.ReadWrite.All'}, 'Group.Read.All')
    assert holds({'Directory.Read.All'}, 'User.Read.All') and not holds({'Directory.Read.All'}, 'Group.ReadWrite.All')
    assert holds({'Group.Create'}, 'Group.Create or Group.ReadWrite.All')
    assert not holds({'DeviceManagementServiceConfig.Read.All'}, 'DeviceManagementServiceConfig.ReadWrite.All')


def test_probes_and_roles_judge_the_rows():
    rows = judge(plan(['group', 'esp']), {'Group.Read.All', 'DeviceManagementServiceConfig.ReadWrite.All'},
                 {GROUPS: None, ESPS: {'status': 403, 'code': 'Forbidden', 'message': 'denied'}})
    found = rows_by_permission(rows)
    assert found['Group.Read.All']['status'] == 'ready'
    assert found['Group.ReadWrite.All']['status'] == 'missing'
    # a 403 although the token holds a permission that grants the read: Intune itself, not the permission
    assert found['DeviceManagementServiceConfig.Read.All']['status'] == 'not licensed'
    assert found['DeviceManagementServiceConfig.ReadWrite.All']['status'] == 'ready'
    said = problems(rows)
    assert said[0].startswith('the app lacks the Microsoft Graph application permission Group.ReadWrite.All')
    assert len(said) == 2


def test_a_tenant_without_intune():
    rows = judge(plan(['esp']), {'DeviceManagementServiceConfig.Read.All', 'DeviceManagementServiceConfig.ReadWrite.All',
                                 'Group.Read.All'},
                 {GROUPS: None, ESPS: {'status': 400, 'code': 'BadRequest', 'message': 'Request not applicable to target tenant.'}})
    assert intune_status(rows)[0] == 'not licensed'
    assert any(p.startswith('Intune does not answer for this tenant') for p in problems(rows))
    assert intune_status(judge(plan(['group']), set(), {GROUPS: None})) is None


def test_no_roles_claim_leaves_writes_unknown():
    found = rows_by_permission(judge(plan(['group']), None, {GROUPS: None}))
    assert found['Group.ReadWrite.All']['status'] == 'unknown'


def test_token_claims_and_the_table():
    assert token_claims(jwt({'roles': ['User.Read.All'], 'tid': 't'})) == {'roles': ['User.Read.All'], 'tid': 't'}
    assert token_claims('opaque') is None and token_claims('a.%%%.c') is None
    rows = judge(plan(['users']), {'User.Read.All', 'DeviceManagementServiceConfig.ReadWrite.All'},
                 {('GET', '/users', 'v1.0'): None})
    lines = report(('ready', 'issued'), rows)
    assert lines[0].split()[:3] == ['check', 'status', 'steps']
    assert [line.split()[:2] for line in lines[1:]] == [
        ['token', 'ready'], ['User.Read.All', 'ready'], ['DeviceManagementServiceConfig.ReadWrite.All', 'ready']]

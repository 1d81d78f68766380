"""The permission named after a 403 (plugins/module_utils/_graph_permissions.py), and how it reaches an error: through
GraphModule's client for every Graph call, and through GraphError.from_parts for a $batch answer. No network."""

import pytest

from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_permissions import error_hint, needed_permission
from tests.unit.plugins.module_utils.test_graph_client import GRAPH, fake, graph_error, make  # noqa: F401 pylint: disable=unused-import

DENIED = 'Insufficient privileges to complete the operation.'


@pytest.mark.parametrize('method, url, needed', [
    ('GET', GRAPH + '/beta/deviceManagement/deviceEnrollmentConfigurations?$filter=x', 'DeviceManagementServiceConfig.Read.All'),
    ('POST', '/deviceManagement/importedWindowsAutopilotDeviceIdentities/import', 'DeviceManagementServiceConfig.ReadWrite.All'),
    ('GET', '/deviceManagement/roleScopeTags', 'DeviceManagementRBAC.Read.All'),
    ('GET', GRAPH + '/beta/deviceManagement/assignmentFilters', 'DeviceManagementConfiguration.Read.All'),
    ('GET', '/deviceAppManagement/mobileApps?$filter=x', 'DeviceManagementApps.Read.All'),
    ('POST', GRAPH + '/v1.0/groups', 'Group.Create or Group.ReadWrite.All'),
    ('PATCH', GRAPH + '/v1.0/groups/abc', 'Group.ReadWrite.All'),
    ('POST', GRAPH + '/v1.0/groups/abc/members/$ref',
     'GroupMember.ReadWrite.All with User.ReadWrite.All (user members) or Device.ReadWrite.All (device members)'),
    ('GET', GRAPH + '/v1.0/groups/$count', 'Group.Read.All'),
    ('GET', '/users/a@contoso.com?$select=id', 'User.Read.All'),
    ("GET", GRAPH + "/v1.0/devices(deviceId='x')", 'Device.Read.All'),
])
def test_403_message_names_the_permission(method, url, needed):
    assert needed_permission(method, url) == needed
    err = GraphError.from_parts(403, {}, graph_error(403, 'Authorization_RequestDenied', DENIED), method, url, hint=error_hint)
    assert err.message == (DENIED + ' The app registration probably lacks the Microsoft Graph application permission %s (or '
                           'it was added without admin consent); see the permissions in the module documentation.' % needed)


def test_403_on_an_unknown_path_and_other_statuses_get_no_hint():
    body = graph_error(403, 'Forbidden', 'No.')
    assert GraphError.from_parts(403, {}, body, 'GET', '/groupsettings', hint=error_hint).message == 'No.'
    assert GraphError.from_parts(404, {}, body, 'GET', '/groups/x', hint=error_hint).message == 'No.'
    assert GraphError.from_parts(403, {}, body, 'GET', '/groups/x').message == 'No.'  # no hint given: none added


def test_the_client_adds_the_hint_it_was_given(fake, make):  # noqa: F811
    fake.graph = [(403, {}, graph_error(403, 'Authorization_RequestDenied', DENIED))] * 2
    with pytest.raises(GraphError) as exc:
        make(error_hint=error_hint).post('/groups', {'displayName': 'x'}, api='v1.0')
    assert str(exc.value) == ('Authorization_RequestDenied: ' + DENIED + ' The app registration probably lacks the '
                              'Microsoft Graph application permission Group.Create or Group.ReadWrite.All (or it was '
                              'added without admin consent); see the permissions in the module documentation.')
    with pytest.raises(GraphError) as exc:
        make().post('/groups', {'displayName': 'x'}, api='v1.0')
    assert exc.value.message == DENIED  # the client itself knows no permission

"""The Graph client against the in-process emulator (tests/graph_emulator): real msal, real TLS, real paging.

State is read back from the emulator's own tenant, not from the client. Skips cleanly when the emulator package
cannot be imported.
"""

import pytest
import requests

from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphAuthError, GraphClient, GraphError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_permissions import error_hint

emulator_pkg = pytest.importorskip('tests.graph_emulator')


@pytest.fixture(scope='module')
def emu():
    # The client's paging, probes and fault handling, not the service's delays: the emulator's best case (objects
    # listed at once), so that each assertion is about the client. The realistic delays are the integration suite's.
    server = emulator_pkg.Emulator(profile='best-case').start()
    yield server
    server.stop()


@pytest.fixture
def control(emu):
    session = requests.Session()

    def call(method, path, json=None):
        answer = session.request(method, '%s/_emulator/%s' % (emu.url, path.lstrip('/')), json=json,
                                 verify=emu.ca_path, timeout=10)
        answer.raise_for_status()
        return answer.json() if answer.content else None
    call('POST', '/reset')
    yield call
    call('DELETE', '/faults')


@pytest.fixture
def make(emu, tmp_path, monkeypatch):
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', '/nonexistent/bundle.pem')  # must not override ca_path

    def factory(**kwargs):
        args = dict(tenant_id=emu.tenant_id, client_id=emu.client_id, client_secret=emu.client_secret,
                    authority_url=emu.url + '/', graph_url=emu.url, ca_path=emu.ca_path,
                    token_cache_path=str(tmp_path / 'cache'))
        args.update(kwargs)
        sleeps, warnings = [], []
        client = GraphClient(sleep=sleeps.append, warn=warnings.append, **args)
        client.sleeps, client.warnings = sleeps, warnings
        return client
    return factory


def group_body(name):
    return {'displayName': name, 'mailEnabled': False, 'mailNickname': name.replace(' ', ''), 'securityEnabled': True}


def emulator_groups(emu, name=None):
    return [g for g in emu.tenant.listed('groups') if name is None or g.get('displayName') == name]


def test_token_by_secret_and_cache_across_clients(emu, control, make):
    first = make()
    assert first.list('/groups', api='v1.0') is not None
    assert first.stats['token_requests'] == 1
    second = make()
    second.get('/groups', api='v1.0')
    assert second.stats['token_requests'] == 0


def test_wrong_secret(emu, control, make):
    with pytest.raises(GraphAuthError) as exc:
        make(client_secret='not-the-secret', token_cache_path=False).get('/groups', api='v1.0')
    assert exc.value.code == 'invalid_client' and 'AADSTS7000215' in str(exc.value)
    assert 'not-the-secret' not in str(exc.value)


def test_token_by_certificate(emu, control, make):
    client = make(client_id=emu.cert_client_id, client_secret=None, client_certificate_path=emu.cert_path)
    client.get('/groups', api='v1.0')
    assert client.stats['token_requests'] == 1


def test_paging_through_the_emulator(emu, control, make):
    control('PATCH', '/settings', {'page_size': 2})
    client = make()
    before = len(emulator_groups(emu))
    for n in range(5):
        client.post('/groups', group_body('Paging group %d' % n), api='v1.0')
    items = client.list('/groups', api='v1.0', params={'$count': 'true', '$orderby': 'displayName'},
                        headers={'ConsistencyLevel': 'eventual'})
    assert sorted(i['id'] for i in items) == sorted(g['id'] for g in emulator_groups(emu))
    assert len(items) == before + 5
    pages = client.stats['requests'] - 5
    assert pages == (len(items) + 1) // 2 and pages >= 3


def test_create_answered_500_after_it_was_applied_is_not_duplicated(emu, control, make):
    control('POST', '/faults', {'rules': [{'method': 'POST', 'path': '/groups', 'fault': '500-after', 'count': 1}]})
    client = make()
    name = 'Created once'

    def probe():
        found = client.list('/groups', api='v1.0', params={'$filter': "displayName eq '%s'" % name})
        return found[0] if len(found) == 1 else None
    created = client.post('/groups', group_body(name), api='v1.0', probe=probe)
    groups = emulator_groups(emu, name)
    assert len(groups) == 1 and created['id'] == groups[0]['id']
    assert any('was applied despite the 500' in w for w in client.warnings)


def test_dropped_connection_on_create_without_probe_is_not_resent(emu, control, make):
    control('POST', '/faults', {'rules': [{'method': 'POST', 'path': '/groups', 'fault': 'drop-after', 'count': 1}]})
    client = make()
    with pytest.raises(GraphError) as exc:
        client.post('/groups', group_body('Dropped'), api='v1.0')
    assert exc.value.status is None and exc.value.method == 'POST'
    assert client.sleeps == []
    assert len(emulator_groups(emu, 'Dropped')) == 1


def test_throttling_without_retry_after_is_retried(emu, control, make):
    control('POST', '/faults', {'rules': [{'method': 'GET', 'path': '/groups', 'fault': '429-no-retry-after',
                                           'count': 2}]})
    client = make()
    client.list('/groups', api='v1.0')
    assert client.stats['throttled'] == 2 and len(client.sleeps) == 2
    assert all('429 TooManyRequests' in w for w in client.warnings)


def test_reads_and_updates_converge_under_random_faults(emu, control, make):
    """30 % of requests get a random fault (every kind that applies nothing); every call still succeeds."""
    client = make(max_retries=8)
    created = client.post('/groups', group_body('Fault target'), api='v1.0')
    control('POST', '/faults', {'rate': 0.3, 'seed': 7, 'slow_ms': 20,
                                'kinds': ['429', '429-no-retry-after', '500', '502', '503', '504', 'slow', 'drop']})
    for n in range(15):
        assert client.get('/groups/%s' % created['id'], api='v1.0')['id'] == created['id']
        client.patch('/groups/%s' % created['id'], {'description': 'run %d' % n}, api='v1.0')
        assert any(g['id'] == created['id'] for g in client.list('/groups', api='v1.0'))
    injected = control('GET', '/faults')['injected']
    control('DELETE', '/faults')
    assert sum(injected.values()) >= 5
    assert client.stats['retries'] >= sum(v for k, v in injected.items() if k != 'slow')
    assert [g['description'] for g in emulator_groups(emu, 'Fault target')] == ['run 14']


def test_token_service_faults_are_retried(emu, control, make):
    """A 503, a 429 with Retry-After and a dropped connection from the token service, then a token: the call succeeds,
    having waited the Retry-After, and the emulator saw four token requests (msal's throttle memory was bypassed)."""
    control('POST', '/faults', {'rules': [{'path': '*/oauth2/v2.0/token', 'fault': '503'},
                                          {'path': '*/oauth2/v2.0/token', 'fault': '429', 'retry_after': 3},
                                          {'path': '*/oauth2/v2.0/token', 'fault': 'drop'}]})
    client = make(token_cache_path=False)
    assert client.list('/groups', api='v1.0') == []
    assert control('GET', '/faults')['injected'] == {'503': 1, '429': 1, 'drop': 1}
    token_posts = [r for r in control('GET', '/requests')['requests'] if r['path'].endswith('/oauth2/v2.0/token')]
    assert [r['status'] for r in token_posts] == [503, 429, None, 200]
    assert client.sleeps[1] == 3 and len(client.sleeps) == 3
    assert client.stats['token_requests'] == 1 and client.stats['retries'] == 3


def test_403_names_the_permission_to_grant(emu, control, make):
    """An app holding only Group.Read.All: the emulator answers 403 Authorization_RequestDenied (concepts/errors.md), and
    the error says which application permission the call needs; nothing is created."""
    app = control('POST', '/apps', {'display_name': 'read-only app', 'roles': ['Group.Read.All']})
    client = make(client_id=app['client_id'], client_secret=app['secret'], token_cache_path=False, error_hint=error_hint)
    assert client.list('/groups', api='v1.0') == []
    with pytest.raises(GraphError) as exc:
        client.post('/groups', group_body('AP denied'), api='v1.0')
    assert exc.value.status == 403 and exc.value.code == 'Authorization_RequestDenied'
    assert 'application permission Group.Create or Group.ReadWrite.All' in str(exc.value)
    assert emulator_groups(emu, 'AP denied') == []
    with pytest.raises(GraphError) as exc:
        client.get('/deviceManagement/windowsAutopilotDeviceIdentities')
    assert 'application permission DeviceManagementServiceConfig.Read.All ' in str(exc.value)
    answers = client.batch([{'method': 'POST', 'url': '/deviceManagement/windowsAutopilotSettings/sync'}])
    assert answers[0]['status'] == 403
    assert 'DeviceManagementServiceConfig.ReadWrite.All' in GraphError.from_parts(
        answers[0]['status'], answers[0].get('headers'), answers[0].get('body'), 'POST',
        '/deviceManagement/windowsAutopilotSettings/sync', hint=error_hint).message

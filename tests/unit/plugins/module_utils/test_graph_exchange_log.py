"""The exchange log (plugins/module_utils/_graph_exchange_log.py) through the real client and msal, on the fake
transport of test_graph_client.py: what one line holds, what is masked, and that the file is appended to and 0600."""

import json
import os
import stat

import pytest
import requests

from ansible_collections.intune.autopilot.plugins.module_utils._graph_exchange_log import mask
from tests.unit.plugins.module_utils.test_graph_client import (  # noqa: F401 pylint: disable=unused-import
    AUTHORITY_HOST, CLIENT, GRAPH, SECRET, TENANT, fake, graph_error, make)

HASH = 'T0FBQUFBQUFB' * 300  # shaped like a base64 hardware hash
PRODUCT_KEY = 'NKJFK-GPHP7-G8C3J-P6JXR-HQRJR'


def lines(path):
    with open(str(path)) as f:
        return [json.loads(line) for line in f]


@pytest.fixture
def log_path(tmp_path):
    return tmp_path / 'exchanges.jsonl'


def test_every_exchange_is_one_masked_line(fake, make, log_path):  # noqa: F811
    record = {'serialNumber': 'S1', 'hardwareIdentifier': HASH, 'productKey': PRODUCT_KEY, 'groupTag': 'BER'}
    import_body = {'importedWindowsAutopilotDeviceIdentities': [record]}
    fake.graph = [
        (200, {'request-id': 'rid-import'}, {'value': [dict(record, id='rec-1')]}),
        (200, {'request-id': 'rid-batch'}, {'responses': [{'id': '1', 'status': 204, 'headers': {}}]}),
    ]
    client = make(exchange_log=str(log_path))
    client.post('/deviceManagement/importedWindowsAutopilotDeviceIdentities/import', import_body, probe=lambda: None)
    client.batch([{'method': 'POST', 'url': '/deviceManagement/windowsAutopilotDeviceIdentities/d1/unassignUserFromDevice',
                   'repeatable': True}])

    assert stat.S_IMODE(os.stat(str(log_path)).st_mode) == 0o600
    text = log_path.read_text()
    for hidden in (SECRET, 'token-1', HASH[:40], PRODUCT_KEY, 'Authorization'):
        assert hidden not in text
    discovery, token, imported, batch = lines(log_path)

    assert (discovery['method'], discovery['status']) == ('GET', 200)
    assert discovery['url'] == AUTHORITY_HOST + '/%s/v2.0/.well-known/openid-configuration' % TENANT
    assert token['url'] == AUTHORITY_HOST + '/%s/oauth2/v2.0/token' % TENANT and token['status'] == 200
    assert token['request']['client_secret'] == '********' and token['request']['client_id'] == CLIENT
    assert token['request']['grant_type'] == 'client_credentials'
    assert token['response']['access_token'] == '********' and token['response']['expires_in'] == 3599

    assert imported['method'] == 'POST' and imported['status'] == 200 and imported['request_id'] == 'rid-import'
    sent = imported['request']['importedWindowsAutopilotDeviceIdentities'][0]
    assert sent['hardwareIdentifier'] == 'T0FBQU... (%d characters)' % len(HASH)
    assert sent['productKey'] == 'NKJFK-... (29 characters)' and sent['serialNumber'] == 'S1'
    assert imported['response']['value'][0]['hardwareIdentifier'] == sent['hardwareIdentifier']
    assert imported['client_request_id'] == fake.graph_calls()[0]['headers']['client-request-id']
    assert imported['time'].endswith('Z') and isinstance(imported['duration_ms'], int) and imported['pid'] == os.getpid()

    assert batch['url'] == GRAPH + '/beta/$batch' and batch['request_id'] == 'rid-batch'
    assert batch['request']['requests'][0]['body'] == {}  # the inner requests and answers as sent and received
    assert batch['response']['responses'] == [{'id': '1', 'status': 204, 'headers': {}}]


def test_lines_of_several_tasks_are_appended_and_errors_recorded(fake, make, log_path):  # noqa: F811
    fake.graph = [(200, {}, {'id': 'a'})]
    make(exchange_log=str(log_path)).get('/groups/a', api='v1.0', params={'$select': 'id'})
    fake.graph = [requests.exceptions.ConnectionError('connection reset'),
                  (429, {'Retry-After': '2'}, graph_error(429, 'TooManyRequests', 'slow down')), (200, {}, {'id': 'b'})]
    make(exchange_log=str(log_path)).get('/groups/b', api='v1.0')
    graph = [line for line in lines(log_path) if line['url'].startswith(GRAPH)]
    assert [(g['url'], g['status']) for g in graph] == [
        (GRAPH + '/v1.0/groups/a?$select=id', 200), (GRAPH + '/v1.0/groups/b', None),
        (GRAPH + '/v1.0/groups/b', 429), (GRAPH + '/v1.0/groups/b', 200)]
    assert graph[1]['error'] == 'ConnectionError: connection reset' and graph[1]['response'] is None
    assert graph[2]['retry_after'] == '2' and graph[2]['response']['error']['code'] == 'TooManyRequests'


def test_a_log_that_cannot_be_written_warns_once_and_the_run_goes_on(fake, make, tmp_path):  # noqa: F811
    fake.graph = [(200, {}, {'id': 'a'})] * 2
    client = make(exchange_log=str(tmp_path / 'missing-dir' / 'log.jsonl'))
    assert client.get('/a') == {'id': 'a'} and client.get('/a') == {'id': 'a'}
    assert len(client.warnings) == 1 and client.warnings[0].startswith('Could not write the exchange log ')


def test_no_log_without_the_option(fake, make, tmp_path):  # noqa: F811
    fake.graph = [(200, {}, {})]
    client = make()
    client.get('/a')
    assert client.session.exchange_log is None and client.warnings == []


def test_mask_rules():
    jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'
    value = {'Authorization': 'Bearer x', 'client_assertion': jwt, 'nested': [{'refresh_token': 'r', 'id_token': ''}],
             'message': 'the token %s and the secret s3cr3t' % jwt, 'hardwareIdentifier': '', 'productKey': None,
             'count': 3}
    assert mask(value, secrets=('s3cr3t',)) == {
        'Authorization': '********', 'client_assertion': '********', 'nested': [{'refresh_token': '********', 'id_token': ''}],
        'message': 'the token ******** and the secret ********', 'hardwareIdentifier': '', 'productKey': None, 'count': 3}

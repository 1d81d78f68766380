"""Unit tests of the Graph client: a fake transport mounted on the client's own requests.Session, no network.

The fake answers msal's discovery GET and token POST in the shapes Entra uses (as tests/graph_emulator/auth.py does), so msal
runs for real; Graph answers are scripted per test.
"""

import base64
import datetime
import email.utils
import json
import os
import re
import stat
import uuid

import jwt
import msal
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from ansible_collections.intune.autopilot.plugins.module_utils import _graph_auth as ga
from ansible_collections.intune.autopilot.plugins.module_utils import _graph_client as gc
from ansible_collections.intune.autopilot.plugins.module_utils._graph_auth import authority_for
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import (
    GraphAuthError, GraphClient, GraphError, parse_retry_after,
)

SECRET = 'Sup3r~secret.value-123'
TENANT = 'contoso-tenant'
CLIENT = '11111111-2222-3333-4444-555555555555'
AUTHORITY_HOST = 'https://login.test'
GRAPH = 'https://graph.test'


class Fake(requests.adapters.BaseAdapter):
    """A transport that records every request and answers from a script.

    ``graph`` is a list of answers consumed in order by Graph calls; each is a (status, headers, body) tuple, an
    exception instance to raise, or a callable(request) returning one of those. The identity provider part answers
    discovery and token requests by itself; ``token_answer`` overrides the token response.
    """

    def __init__(self):
        super(Fake, self).__init__()
        self.calls = []
        self.graph = []
        self.tokens_issued = 0
        self.token_answer = None
        self.token_answers = []  # consumed in order before token_answer; an exception instance is raised
        self.token_posts = 0
        self.assertions = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.calls.append({'method': request.method, 'url': request.url, 'headers': dict(request.headers),
                           'body': request.body, 'verify': verify, 'timeout': timeout})
        if request.url.startswith(AUTHORITY_HOST) or 'login.microsoftonline' in request.url:
            answer = self._idp(request)
        else:
            if not self.graph:
                raise AssertionError('unexpected Graph request %s %s' % (request.method, request.url))
            answer = self.graph.pop(0)
            if callable(answer):
                answer = answer(request)
        if isinstance(answer, Exception):
            raise answer
        status, headers, body = answer
        return _response(request, status, headers, body)

    def _idp(self, request):
        base = request.url.split('/v2.0/.well-known')[0].split('/oauth2/')[0]
        if request.url.endswith('/.well-known/openid-configuration'):
            return 200, {}, {'authorization_endpoint': base + '/oauth2/v2.0/authorize',
                             'token_endpoint': base + '/oauth2/v2.0/token', 'issuer': base + '/v2.0'}
        form = dict(x.split('=', 1) for x in (request.body or '').split('&'))
        if 'client_assertion' in form:
            self.assertions.append(requests.utils.unquote(form['client_assertion']))
        self.token_posts += 1
        if self.token_answers:
            return self.token_answers.pop(0)
        if self.token_answer:
            return self.token_answer
        self.tokens_issued += 1
        return 200, {}, {'token_type': 'Bearer', 'expires_in': 3599, 'access_token': 'token-%d' % self.tokens_issued}

    def close(self):
        pass

    def graph_calls(self):
        return [c for c in self.calls if c['url'].startswith(GRAPH)]

    def idp_calls(self):
        return [c for c in self.calls if not c['url'].startswith(GRAPH)]


def _response(request, status, headers, body):
    resp = requests.Response()
    resp.status_code = status
    resp.reason = requests.status_codes._codes.get(status, ('',))[0].replace('_', ' ').title()
    resp.headers = requests.structures.CaseInsensitiveDict(headers or {})
    if isinstance(body, (dict, list)):
        resp._content = json.dumps(body).encode()
        resp.headers.setdefault('Content-Type', 'application/json')
    else:
        resp._content = (body or '').encode()
    resp.url = request.url
    resp.request = request
    return resp


def graph_error(status, code, message, request_id='rid-1'):
    return {'error': {'code': code, 'message': message,
                      'innerError': {'request-id': request_id, 'date': '2026-01-01T00:00:00'}}}


@pytest.fixture
def fake():
    return Fake()


@pytest.fixture
def make(fake, tmp_path):
    made = []

    def factory(**kwargs):
        args = dict(tenant_id=TENANT, client_id=CLIENT, client_secret=SECRET, authority_url=AUTHORITY_HOST + '/',
                    graph_url=GRAPH, token_cache_path=str(tmp_path / 'cache'), ca_path='/pinned/ca.pem')
        args.update(kwargs)
        sleeps, warnings = [], []
        client = GraphClient(sleep=sleeps.append, warn=warnings.append, **args)
        client.sleeps, client.warnings = sleeps, warnings
        client.session.mount('https://', fake)
        made.append(client)
        return client
    return factory


# ---------------------------------------------------------------------------- paging, URLs, headers

def test_list_follows_next_link_verbatim_and_resends_headers(fake, make):
    next_link = GRAPH + "/v1.0/groups?$filter=startswith(displayName,'AP')&$count=true&$skiptoken=RFNwdAIAAQ%2BAAA"
    fake.graph = [
        (200, {}, {'@odata.count': 3, 'value': [{'id': 'a'}, {'id': 'b'}], '@odata.nextLink': next_link}),
        (200, {}, {'value': []}),  # a page may hold zero items (paging.md)
    ]
    fake.graph.insert(1, (200, {}, {'value': [{'id': 'c'}], '@odata.nextLink': GRAPH + '/v1.0/groups?$skiptoken=2'}))
    client = make()
    items = client.list('/groups', api='v1.0', params={'$filter': "startswith(displayName,'AP')", '$count': 'true'},
                        headers={'ConsistencyLevel': 'eventual'})
    assert [i['id'] for i in items] == ['a', 'b', 'c']
    calls = fake.graph_calls()
    assert len(calls) == 3
    assert calls[0]['url'] == GRAPH + "/v1.0/groups?$filter=startswith(displayName,'AP')&$count=true"
    assert calls[1]['url'] == next_link
    assert calls[2]['url'] == GRAPH + '/v1.0/groups?$skiptoken=2'
    assert all(c['headers'].get('ConsistencyLevel') == 'eventual' for c in calls)


def test_query_encodes_spaces_as_percent_20(make):
    url = make().url('/groups', params={'$filter': "displayName eq 'A+B C'"})
    assert url == GRAPH + "/beta/groups?$filter=displayName%20eq%20'A%2BB%20C'"


def test_every_request_pins_verify_and_timeout_and_sends_ids(fake, make, monkeypatch):
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', '/some/other/bundle.pem')
    fake.graph = [(200, {}, {'id': '1'}), (200, {}, {'id': '2'})]
    client = make(timeout=7)
    client.get('/a')
    client.get('/b')
    assert len(fake.idp_calls()) == 2  # discovery + token went through the same session
    for call in fake.calls:
        assert call['verify'] == '/pinned/ca.pem'
        assert call['timeout'] == 7
        assert call['headers']['User-Agent'].startswith('intune.autopilot/')
    ids = [c['headers']['client-request-id'] for c in fake.graph_calls()]
    assert len(set(ids)) == 2 and all(uuid.UUID(i) for i in ids)
    assert fake.graph_calls()[0]['headers']['Authorization'] == 'Bearer token-1'


def test_value_unwrap_and_empty_answers(fake, make):
    fake.graph = [
        (200, {}, {'@odata.context': 'x', 'value': {'id': 'esp1', 'priority': 1}}),
        (200, {}, {'@odata.context': 'x', 'value': [{'id': 'a'}]}),
        (200, {}, {'@odata.context': 'x', 'value': 'a string property'}),
        (204, {}, ''),
        (200, {}, ''),
    ]
    client = make()
    assert client.get('/deviceManagement/deviceEnrollmentConfigurations/esp1') == {'id': 'esp1', 'priority': 1}
    assert client.get('/groups') == {'@odata.context': 'x', 'value': [{'id': 'a'}]}
    assert client.get('/groups/a/mailNickname')['value'] == 'a string property'
    assert client.patch('/groups/a', {'description': 'x'}) is None
    assert client.post('/deviceManagement/windowsAutopilotSettings/sync') is None
    patch = fake.graph_calls()[3]
    assert patch['method'] == 'PATCH' and json.loads(patch['body']) == {'description': 'x'}
    assert patch['headers']['Content-Type'] == 'application/json'


def test_clouds_and_authority():
    assert authority_for('public', None, 't') == 'https://login.microsoftonline.com/t'
    assert authority_for('china', None, 't') == 'https://login.chinacloudapi.cn/t'
    assert authority_for('public', 'https://127.0.0.1:8443/', 't') == 'https://127.0.0.1:8443/t'
    assert authority_for('public', 'login.microsoftonline.us', 't') == 'https://login.microsoftonline.us/t'
    assert authority_for('public', 'https://127.0.0.1:8443/other/', 't') == 'https://127.0.0.1:8443/other'
    client = GraphClient('t', 'c', client_secret='s', cloud='usgov_dod', token_cache_path=False)
    assert client.tokens.credential.authority == 'https://login.microsoftonline.us/t'
    assert client.url('/groups') == 'https://dod-graph.microsoft.us/beta/groups'
    assert client.tokens.credential.scope == 'https://dod-graph.microsoft.us/.default'
    client = GraphClient('t', 'c', client_secret='s', cloud='usgov', graph_url='https://127.0.0.1:9/beta/',
                         token_cache_path=False)
    assert client.url('x', api='v1.0') == 'https://127.0.0.1:9/v1.0/x'
    assert client.tokens.credential.scope == 'https://graph.microsoft.us/.default'
    with pytest.raises(ValueError):
        GraphClient('t', 'c', client_secret='s', cloud='mars')


# ---------------------------------------------------------------------------- retries

def test_429_honours_retry_after_seconds(fake, make):
    fake.graph = [(429, {'Retry-After': '3'}, graph_error(429, 'TooManyRequests', 'Please retry again later.')),
                  (200, {}, {'id': 'g'})]
    client = make()
    assert client.get('/groups/g') == {'id': 'g'}
    assert client.sleeps == [3.0]
    assert client.warnings == ['Retrying GET /beta/groups/g: 429 TooManyRequests, attempt 2 of 6, waiting 3.0 s']
    assert client.stats['throttled'] == 1 and client.stats['retries'] == 1
    assert client.stats['by_status'] == {429: 1, 200: 1}
    calls = fake.graph_calls()
    assert 'Retry-Attempt' not in calls[0]['headers'] and calls[1]['headers']['Retry-Attempt'] == '1'


def test_429_honours_retry_after_http_date(fake, make):
    when = email.utils.format_datetime(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=20),
                                       usegmt=True)
    fake.graph = [(429, {'Retry-After': when}, graph_error(429, 'TooManyRequests', 'x')), (200, {}, {'id': 'g'})]
    client = make()
    client.get('/groups/g')
    assert 17 <= client.sleeps[0] <= 20


def test_parse_retry_after():
    assert parse_retry_after('5') == 5.0
    assert parse_retry_after('0') == 0.0
    assert parse_retry_after('') is None
    assert parse_retry_after(None) is None
    assert parse_retry_after('garbage') is None
    assert parse_retry_after('Wed, 21 Oct 2015 07:28:00 GMT') == 0.0  # in the past


def test_429_without_retry_after_backs_off_exponentially_with_jitter(fake, make):
    fake.graph = [(429, {}, graph_error(429, 'TooManyRequests', 'x'))] * 4 + [(200, {}, {'id': 'g'})]
    client = make()
    client.get('/deviceManagement/detectedApps')
    assert len(client.sleeps) == 4
    for n, wait in enumerate(client.sleeps):
        ceiling = 2.0 * 2 ** n
        assert ceiling / 2 <= wait <= ceiling, (n, wait)


def test_backoff_capped_by_retry_max_delay(fake, make):
    fake.graph = [(503, {}, graph_error(503, 'serviceNotAvailable', 'x'))] * 5 + [(200, {}, {})]
    client = make(retry_max_delay=5)
    client.get('/x')
    assert max(client.sleeps) <= 5 and client.sleeps[-1] >= 2.5


def test_503_and_504_retried_for_patch_and_put(fake, make):
    fake.graph = [(503, {'Retry-After': '1'}, graph_error(503, 'serviceNotAvailable', 'x')),
                  (504, {}, '<html>gateway timeout</html>'),
                  (502, {}, ''),
                  (200, {}, {'id': 'p', 'displayName': 'new'})]
    client = make()
    assert client.patch('/deviceManagement/windowsAutopilotDeploymentProfiles/p', {'displayName': 'new'})['id'] == 'p'
    assert client.sleeps[0] == 1.0 and len(client.sleeps) == 3
    assert [c['method'] for c in fake.graph_calls()] == ['PATCH'] * 4
    assert 'Retrying PATCH /beta/deviceManagement/windowsAutopilotDeploymentProfiles/p: 504 GatewayTimeout' \
        in client.warnings[1]


def test_gives_up_after_max_retries(fake, make):
    fake.graph = [(503, {}, graph_error(503, 'serviceNotAvailable', 'down'))] * 3
    client = make(max_retries=2)
    with pytest.raises(GraphError) as exc:
        client.get('/groups')
    assert exc.value.status == 503 and exc.value.code == 'serviceNotAvailable'
    assert len(fake.graph_calls()) == 3 and len(client.sleeps) == 2
    assert client.warnings[-1].startswith('Retrying GET /beta/groups: 503 serviceNotAvailable, attempt 3 of 3')


def test_retry_after_longer_than_max_delay_fails_at_once(fake, make):
    fake.graph = [(429, {'Retry-After': '600'}, graph_error(429, 'TooManyRequests', 'Sync was requested too soon.'))]
    client = make()
    with pytest.raises(GraphError) as exc:
        client.get('/x')
    assert 'Retry-After 600 s is longer than retry_max_delay 60 s' in str(exc.value)
    assert client.sleeps == []


def test_total_wait_is_capped(fake, make):
    fake.graph = [(429, {'Retry-After': '50'}, graph_error(429, 'TooManyRequests', 'x'))] * 6 + [(200, {}, {})]
    client = make(retry_max_total=120)
    with pytest.raises(GraphError):
        client.get('/x')
    assert client.sleeps == [50.0, 50.0]


def test_max_retries_zero_means_no_retry(fake, make):
    fake.graph = [(429, {'Retry-After': '1'}, graph_error(429, 'TooManyRequests', 'x'))]
    with pytest.raises(GraphError):
        make(max_retries=0).get('/x')
    assert len(fake.graph_calls()) == 1


def test_get_connection_error_and_timeout_retried(fake, make):
    fake.graph = [requests.exceptions.ConnectionError('Connection reset by peer'),
                  requests.exceptions.ReadTimeout('read timed out'),
                  (200, {}, {'id': 'g'})]
    client = make()
    assert client.get('/groups/g') == {'id': 'g'}
    assert 'ConnectionError' in client.warnings[0] and 'ReadTimeout' in client.warnings[1]
    assert client.stats['transport_errors'] == 2


def test_ssl_error_not_retried_and_explained(fake, make):
    fake.graph = [requests.exceptions.SSLError('certificate verify failed')]
    client = make()
    with pytest.raises(GraphError) as exc:
        client.get('/x')
    assert exc.value.code == 'SSLError' and 'ca_path' in exc.value.message
    assert client.sleeps == []


# ---------------------------------------------------------------------------- the POST rule

def test_post_not_retried_after_500_without_probe(fake, make):
    fake.graph = [(500, {}, graph_error(500, 'generalException', 'boom'))]
    client = make()
    with pytest.raises(GraphError) as exc:
        client.post('/groups', {'displayName': 'g'})
    assert exc.value.status == 500
    assert len(fake.graph_calls()) == 1 and client.sleeps == []


def test_post_not_retried_after_dropped_connection_without_probe(fake, make):
    fake.graph = [requests.exceptions.ConnectionError('Connection aborted')]
    with pytest.raises(GraphError) as exc:
        make().post('/groups', {'displayName': 'g'})
    assert exc.value.status is None and exc.value.code == 'ConnectionError'
    assert len(fake.graph_calls()) == 1


def test_post_retried_after_connect_timeout(fake, make):
    fake.graph = [requests.exceptions.ConnectTimeout('connect timed out'), (201, {}, {'id': 'new'})]
    assert make().post('/groups', {'displayName': 'g'}) == {'id': 'new'}
    assert len(fake.graph_calls()) == 2


def test_post_retried_after_429(fake, make):
    fake.graph = [(429, {'Retry-After': '2'}, graph_error(429, 'TooManyRequests', 'x')),
                  (201, {}, {'id': 'new'})]
    client = make()
    assert client.post('/groups', {'displayName': 'g'}) == {'id': 'new'}
    assert [c['method'] for c in fake.graph_calls()] == ['POST', 'POST']
    assert client.sleeps == [2.0]


def test_post_probe_finding_the_object_prevents_second_post(fake, make):
    fake.graph = [(500, {}, graph_error(500, 'generalException', 'boom'))]
    probes = []

    def probe():
        probes.append(1)
        return {'id': 'created-by-first-post', 'displayName': 'g'}
    client = make()
    assert client.post('/groups', {'displayName': 'g'}, probe=probe) == {'id': 'created-by-first-post',
                                                                         'displayName': 'g'}
    assert len(probes) == 1
    assert [c['method'] for c in fake.graph_calls()] == ['POST']
    assert 'checking first whether it was applied' in client.warnings[0]
    assert 'was applied despite the 500 generalException' in client.warnings[1]


def test_post_probe_returning_none_allows_second_post(fake, make):
    fake.graph = [requests.exceptions.ConnectionError('reset'), (201, {}, {'id': 'new'})]
    client = make()
    assert client.post('/groups', {'displayName': 'g'}, probe=lambda: None) == {'id': 'new'}
    assert [c['method'] for c in fake.graph_calls()] == ['POST', 'POST']


def test_post_probe_consulted_when_retries_exhausted(fake, make):
    fake.graph = [(503, {}, graph_error(503, 'serviceNotAvailable', 'x'))] * 2
    answers = [None, {'id': 'late'}]
    client = make(max_retries=1)
    assert client.post('/groups', {}, probe=lambda: answers.pop(0)) == {'id': 'late'}
    assert len(fake.graph_calls()) == 2


def test_delete_after_transient_failure_then_404_counts_as_deleted(fake, make):
    fake.graph = [(503, {}, graph_error(503, 'serviceNotAvailable', 'x')),
                  (404, {}, graph_error(404, 'Request_ResourceNotFound', 'gone'))]
    assert make().delete('/groups/g') is True
    fake.graph = [(404, {}, graph_error(404, 'Request_ResourceNotFound', 'gone'))]
    assert make().delete('/groups/g') is False
    fake.graph = [(204, {}, '')]
    assert make().delete('/groups/g') is True
    fake.graph = [(404, {}, graph_error(404, 'Request_ResourceNotFound', 'gone'))]
    with pytest.raises(GraphError):
        make().delete('/groups/g', missing_ok=False)


def test_get_or_none(fake, make):
    fake.graph = [(404, {}, graph_error(404, 'ResourceNotFound', 'no')), (403, {}, graph_error(403, 'Forbidden', 'no'))]
    client = make()
    assert client.get_or_none('/x') is None
    with pytest.raises(GraphError) as exc:
        client.get_or_none('/x')
    assert exc.value.status == 403


# ---------------------------------------------------------------------------- 401 and tokens

def test_401_refreshes_token_once(fake, make):
    fake.graph = [(401, {}, graph_error(401, 'InvalidAuthenticationToken', 'Access token has expired.')),
                  (200, {}, {'id': 'g'})]
    client = make()
    assert client.get('/groups/g') == {'id': 'g'}
    calls = fake.graph_calls()
    assert calls[0]['headers']['Authorization'] == 'Bearer token-1'
    assert calls[1]['headers']['Authorization'] == 'Bearer token-2'
    assert fake.tokens_issued == 2 and client.sleeps == []


def test_second_401_is_an_error(fake, make):
    fake.graph = [(401, {}, graph_error(401, 'InvalidAuthenticationToken', 'bad'))] * 2
    with pytest.raises(GraphError) as exc:
        make().get('/groups')
    assert exc.value.status == 401 and fake.tokens_issued == 2


def test_token_cache_shared_by_two_clients(fake, make, tmp_path):
    fake.graph = [(200, {}, {'id': '1'}), (200, {}, {'id': '2'})]
    first = make()
    first.get('/a')
    assert fake.tokens_issued == 1 and first.stats['token_requests'] == 1
    idp_before = len(fake.idp_calls())
    second = make()
    second.get('/b')
    assert fake.tokens_issued == 1 and second.stats['token_requests'] == 0
    assert len(fake.idp_calls()) == idp_before  # not even msal's discovery GET
    assert fake.graph_calls()[1]['headers']['Authorization'] == 'Bearer token-1'

    cache_dir = tmp_path / 'cache'
    files = os.listdir(str(cache_dir))
    assert len(files) == 1 and files[0].startswith('token-')
    path = str(cache_dir / files[0])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(cache_dir)).st_mode) == 0o700
    content = open(path).read()
    assert SECRET not in content and 'token-1' in content


def test_token_cache_is_keyed_by_authority_tenant_and_client(fake, make, tmp_path):
    fake.graph = [(200, {}, {})] * 3
    make().get('/a')
    make(client_id='other-client').get('/a')
    make(authority_url='https://login.test:8443/').get('/a')
    assert len(os.listdir(str(tmp_path / 'cache'))) == 3
    assert fake.tokens_issued == 3


def test_token_cache_is_keyed_by_credential_too(fake, make, tmp_path):
    """A token cached with the right secret is not reused with a wrong one: the wrong secret fails at once."""
    fake.graph = [(200, {}, {})]
    make().get('/a')
    fake.token_answer = (401, {}, {'error': 'invalid_client', 'error_description': 'AADSTS7000215: Invalid client secret.'})
    with pytest.raises(GraphAuthError):
        make(client_secret='not-the-secret').get('/a')
    names = os.listdir(str(tmp_path / 'cache'))
    assert len(names) == 1
    with open(str(tmp_path / 'cache' / names[0])) as f:
        content = f.read()
    assert SECRET not in content and 'not-the-secret' not in content


def test_corrupt_token_cache_is_ignored_and_replaced(fake, make, tmp_path):
    client = make()
    os.makedirs(os.path.dirname(client.tokens.cache_file))
    with open(client.tokens.cache_file, 'w') as f:
        f.write('{not json')
    fake.graph = [(200, {}, {})]
    client.get('/a')
    assert fake.tokens_issued == 1
    assert 'token-1' in open(client.tokens.cache_file).read()


def test_token_cache_written_only_when_changed(fake, make):
    fake.graph = [(200, {}, {})] * 2
    first = make()
    first.get('/a')
    mtime = os.stat(first.tokens.cache_file).st_mtime_ns
    os.utime(first.tokens.cache_file, ns=(mtime - 10 ** 9, mtime - 10 ** 9))
    make().get('/a')
    assert os.stat(first.tokens.cache_file).st_mtime_ns == mtime - 10 ** 9


def test_token_cache_disabled(fake, make, tmp_path):
    fake.graph = [(200, {}, {})]
    client = make(token_cache_path=False)
    client.get('/a')
    assert client.tokens.cache_file is None and not (tmp_path / 'cache').exists()


def test_default_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
    client = GraphClient('t', 'c', client_secret='s')
    assert client.tokens.cache_file.startswith(str(tmp_path / 'intune.autopilot') + os.sep)


def test_token_error_dict_mapped_without_secret(fake, make):
    fake.token_answer = (401, {}, {'error': 'invalid_client',
                                   'error_description': 'AADSTS7000215: Invalid client secret provided.'})
    with pytest.raises(GraphAuthError) as exc:
        make().get('/groups')
    msg = str(exc.value)
    assert msg == ("Failed to obtain a token for client '%s' from https://login.test/%s: invalid_client: "
                   "AADSTS7000215: Invalid client secret provided." % (CLIENT, TENANT))
    assert exc.value.code == 'invalid_client' and SECRET not in msg
    assert fake.graph_calls() == []


def test_token_exception_at_construction_mapped(fake, make, monkeypatch):
    def boom(*args, **kwargs):
        raise requests.exceptions.ConnectionError('[Errno 111] Connection refused for %s' % SECRET)
    monkeypatch.setattr(ga.msal, 'ConfidentialClientApplication', boom)
    with pytest.raises(GraphAuthError) as exc:
        make().get('/groups')
    assert exc.value.code == 'ConnectionError'
    assert 'Failed to obtain a token for client' in str(exc.value) and 'Connection refused' in str(exc.value)
    assert SECRET not in str(exc.value)


def test_token_service_error_mapped(fake, make):
    fake.token_answer = (500, {}, 'oops')
    with pytest.raises(GraphAuthError) as exc:
        make().get('/groups')
    assert 'Failed to obtain a token' in str(exc.value) and exc.value.code


def test_token_5xx_is_retried_and_reaches_the_service_again(fake, make):
    # msal remembers a 5xx for 5 s and would answer a second call from that memory; the retry must reach Entra.
    fake.token_answers = [(503, {}, 'Service Unavailable')]
    fake.graph = [(200, {}, {'id': 'g'})]
    client = make()
    assert client.get('/groups/g') == {'id': 'g'}
    assert fake.token_posts == 2
    assert len(client.sleeps) == 1 and 1.0 <= client.sleeps[0] <= 2.0  # backoff 2 s, upper half
    assert client.stats['retries'] == 1 and client.stats['token_requests'] == 1
    assert client.warnings == ["Retrying the token request to https://login.test/%s: MsalServiceError, attempt 2 of 6, "
                               "waiting %.1f s" % (TENANT, client.sleeps[0])]


@pytest.mark.parametrize('answer, wait', [
    # Entra's answer for client credentials: text, "Retry-After: 60" (learn.microsoft.com/entra/msal/dotnet/advanced/
    # client-and-server-throttling); msal raises ValueError on the text body.
    ((429, {'Retry-After': '60'}, 'Too Many Requests'), 60),
    ((429, {'Retry-After': '7'}, {'error': 'temporarily_unavailable', 'error_description': 'AADSTS: busy'}), 7),
])
def test_token_429_honours_retry_after(fake, make, answer, wait):
    fake.token_answers = [answer]
    fake.graph = [(200, {}, {'id': 'g'})]
    client = make()
    client.get('/groups/g')
    assert client.sleeps == [wait] and fake.token_posts == 2


def test_token_connection_error_is_retried(fake, make):
    fake.token_answers = [requests.exceptions.ConnectionError('connection reset by peer')]
    fake.graph = [(200, {}, {'id': 'g'})]
    client = make()
    client.get('/groups/g')
    assert fake.token_posts == 2 and client.stats['retries'] == 1


def test_token_retries_end_with_the_last_error(fake, make):
    fake.token_answer = (500, {}, 'oops')
    client = make(max_retries=2)
    with pytest.raises(GraphAuthError) as exc:
        client.get('/groups/g')
    assert fake.token_posts == 3 and len(client.sleeps) == 2
    assert 'Failed to obtain a token' in str(exc.value)
    assert fake.graph_calls() == []


def test_token_retry_after_longer_than_retry_max_delay_is_not_waited(fake, make):
    fake.token_answer = (429, {'Retry-After': '600'}, {'error': 'temporarily_unavailable', 'error_description': 'busy'})
    client = make()
    with pytest.raises(GraphAuthError) as exc:
        client.get('/groups/g')
    assert fake.token_posts == 1 and client.sleeps == []
    assert 'Retry-After 600 s is longer than retry_max_delay 60 s' in str(exc.value)


@pytest.mark.parametrize('answer', [
    (401, {}, {'error': 'invalid_client', 'error_description': 'AADSTS7000215: Invalid client secret provided.'}),
    (400, {}, {'error': 'unauthorized_client', 'error_description': 'AADSTS700016: Application not found.'}),
    requests.exceptions.SSLError('certificate verify failed'),
])
def test_token_errors_that_a_retry_cannot_fix_are_not_retried(fake, make, answer):
    fake.token_answer = answer if not isinstance(answer, Exception) else None
    fake.token_answers = [answer] if isinstance(answer, Exception) else []
    client = make()
    with pytest.raises(GraphAuthError):
        client.get('/groups/g')
    assert fake.token_posts == 1 and client.sleeps == [] and client.stats['retries'] == 0


def test_retry_429_false_raises_the_first_429(fake, make):
    fake.graph = [(429, {}, graph_error(429, 'TooManyRequests', 'Sync within 10 minutes of the previous sync.'))]
    client = make()
    with pytest.raises(GraphError) as exc:
        client.post('/deviceManagement/windowsAutopilotSettings/sync', retry_429=False)
    assert exc.value.status == 429 and client.sleeps == [] and len(fake.graph_calls()) == 1


# ---------------------------------------------------------------------------- error mapping

def test_graph_error_envelope(fake, make):
    fake.graph = [(400, {'request-id': 'hdr-rid'}, graph_error(400, 'Request_BadRequest', 'Invalid value'))]
    with pytest.raises(GraphError) as exc:
        make().post('/groups', {'displayName': ''})
    err = exc.value
    assert str(err) == 'Request_BadRequest: Invalid value'
    assert (err.status, err.code, err.request_id, err.method) == (400, 'Request_BadRequest', 'hdr-rid', 'POST')
    assert err.url == GRAPH + '/beta/groups' and err.date == '2026-01-01T00:00:00'
    assert err.to_result() == {'status': 400, 'code': 'Request_BadRequest', 'request_id': 'hdr-rid', 'method': 'POST',
                               'url': GRAPH + '/beta/groups', 'error': err.error}
    assert err.error['code'] == 'Request_BadRequest'


def test_request_id_from_inner_error_and_query_stripped(fake, make):
    fake.graph = [(403, {}, graph_error(403, 'Authorization_RequestDenied', 'Insufficient privileges', 'inner-rid'))]
    with pytest.raises(GraphError) as exc:
        make().get('/groups', params={'$filter': "displayName eq 'x'"})
    assert exc.value.request_id == 'inner-rid' and exc.value.url == GRAPH + '/beta/groups'


def test_intune_json_string_message_made_readable(fake, make):
    inner = {'_version': 3, 'Message': 'An error has occurred - Operation ID (for customer support): 0000 - '
             'Activity ID: abc - Url: https://fef.msua02.manage.microsoft.com/x', 'CustomApiErrorPhrase': '',
             'RetryAfter': None, 'ErrorSourceService': '', 'HttpHeaders': '{}'}
    fake.graph = [(400, {}, {'error': {'code': 'BadRequest', 'message': json.dumps(inner)}})]
    with pytest.raises(GraphError) as exc:
        make().get('/deviceManagement/windowsAutopilotDeviceIdentities')
    assert str(exc.value) == 'BadRequest: ' + inner['Message']


def test_non_json_error_body(fake, make):
    fake.graph = [(405, {}, '<html><body>Method Not Allowed</body></html>')]
    with pytest.raises(GraphError) as exc:
        make().get('/x')
    assert exc.value.code == 'MethodNotAllowed' and exc.value.status == 405
    assert 'Method Not Allowed' in exc.value.message and exc.value.error is None


def test_transport_error_after_retries(fake, make):
    fake.graph = [requests.exceptions.ConnectionError('Connection refused')] * 2
    with pytest.raises(GraphError) as exc:
        make(max_retries=1).get('/x')
    assert exc.value.status is None and exc.value.code == 'ConnectionError'
    assert str(exc.value) == 'ConnectionError: Connection refused'


# ---------------------------------------------------------------------------- $batch

def test_batch_chunks_orders_and_retries_inner_429(fake, make):
    sent = []

    def answer(request):
        body = json.loads(request.body)
        sent.append(body['requests'])
        responses = []
        for item in reversed(body['requests']):  # any order (json-batching.md)
            if item['id'] == '3' and len(sent) == 1:
                responses.append({'id': '3', 'status': 429, 'headers': {'Retry-After': '4'},
                                  'body': graph_error(429, 'TooManyRequests', 'x')})
            else:
                responses.append({'id': item['id'], 'status': 200, 'headers': {}, 'body': {'n': item['url']}})
        return 200, {}, {'responses': responses}
    fake.graph = [answer, answer, answer]
    reqs = [{'method': 'GET', 'url': '/groups/%d' % i} for i in range(24)]
    reqs[5] = {'method': 'PATCH', 'url': '/groups/5', 'body': {'description': 'd'}}
    client = make()
    out = client.batch(reqs)
    assert [o['body']['n'] for o in out] == [r['url'] for r in reqs]
    assert all(o['status'] == 200 for o in out)
    assert [len(s) for s in sent] == [20, 1, 4]
    assert [r['id'] for r in sent[1]] == ['3']
    ids = [r['id'] for r in sent[0]]
    assert len(set(ids)) == 20
    assert sent[0][5]['headers'] == {'Content-Type': 'application/json'} and sent[0][5]['body'] == {'description': 'd'}
    assert 'headers' not in sent[0][0]
    assert client.sleeps == [4.0]
    assert client.warnings == ['Retrying 1 of 20 requests in POST /beta/$batch: 429, attempt 2 of 6, waiting 4.0 s']
    assert all(c['url'] == GRAPH + '/beta/$batch' for c in fake.graph_calls())


def test_batch_inner_post_not_retried_after_503_and_failures_returned(fake, make):
    def answer(request):
        items = json.loads(request.body)['requests']
        return 200, {}, {'responses': [{'id': i['id'], 'status': 503, 'headers': {},
                                        'body': graph_error(503, 'serviceNotAvailable', 'x')} for i in items]}
    fake.graph = [answer]
    out = make().batch([{'method': 'POST', 'url': '/groups', 'body': {}}])
    assert out[0]['status'] == 503 and len(fake.graph_calls()) == 1
    err = GraphError.from_parts(out[0]['status'], out[0]['headers'], out[0]['body'], 'POST', GRAPH + '/beta/groups')
    assert str(err) == 'serviceNotAvailable: x'


def test_batch_writes_carry_a_body_and_content_type(fake, make):
    """concepts/json-batching.md: headers are required with a body, and a POST whose target takes no body still sends
    headers and an empty body; its own example sends DELETE and GET with neither. Graph refuses a write without them
    (400 "does not contain Content-Type header or body.", msgraph-sdk-dotnet issue 2628)."""
    sent = []

    def answer(request):
        sent.extend(json.loads(request.body)['requests'])
        return 200, {}, {'responses': [{'id': i['id'], 'status': 204, 'headers': {}} for i in sent]}
    fake.graph = [answer]
    device = '/deviceManagement/windowsAutopilotDeviceIdentities/d1'
    make().batch([
        {'method': 'POST', 'url': device + '/unassignUserFromDevice', 'repeatable': True},
        {'method': 'patch', 'url': '/groups/g1'},
        {'method': 'POST', 'url': device + '/updateDeviceProperties', 'body': {'groupTag': 'BER'}},
        {'method': 'POST', 'url': '/x/upload', 'body': {'a': 1}, 'headers': {'content-type': 'application/json; odata=x'}},
        {'method': 'DELETE', 'url': device},
        {'method': 'GET', 'url': '/groups?$select=id', 'headers': {'ConsistencyLevel': 'eventual'}},
    ])
    by_id = dict((i['id'], i) for i in sent)
    assert by_id['1'] == {'id': '1', 'method': 'POST', 'url': device + '/unassignUserFromDevice', 'body': {},
                          'headers': {'Content-Type': 'application/json'}}
    assert by_id['2']['body'] == {} and by_id['2']['headers'] == {'Content-Type': 'application/json'}
    assert by_id['3']['body'] == {'groupTag': 'BER'} and by_id['3']['headers'] == {'Content-Type': 'application/json'}
    assert by_id['4']['headers'] == {'content-type': 'application/json; odata=x'}  # the caller's own is kept
    assert by_id['5'] == {'id': '5', 'method': 'DELETE', 'url': device}
    assert by_id['6'] == {'id': '6', 'method': 'GET', 'url': '/groups?$select=id', 'headers': {'ConsistencyLevel': 'eventual'}}


# ---------------------------------------------------------------------------- credentials

def _key_and_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'intune-autopilot-test')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    return key, cert


@pytest.fixture(scope='module')
def key_cert():
    return _key_and_cert()


def _capture_app(monkeypatch):
    captured = {}

    class App(object):
        def __init__(self, client_id, **kwargs):
            captured['client_id'] = client_id
            captured.update(kwargs)

        def acquire_token_for_client(self, scopes):
            captured['scopes'] = scopes
            return {'access_token': 'tok', 'expires_in': 3600, 'token_type': 'Bearer'}
    monkeypatch.setattr(ga.msal, 'ConfidentialClientApplication', App)
    return captured


def test_certificate_pem_encrypted_gives_msal_key_and_certificate(fake, make, tmp_path, key_cert, monkeypatch):
    key, cert = key_cert
    path = tmp_path / 'cred.pem'
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(b'pw'))
                     + cert.public_bytes(serialization.Encoding.PEM))
    captured = _capture_app(monkeypatch)
    fake.graph = [(200, {}, {})]
    make(client_secret=None, client_certificate_path=str(path), client_certificate_password='pw').get('/x')
    cred = captured['client_credential']
    assert cred['public_certificate'] == cert.public_bytes(serialization.Encoding.PEM).decode()
    loaded = serialization.load_pem_private_key(cred['private_key'].encode(), password=None)
    assert loaded.public_key().public_numbers() == key.public_key().public_numbers()
    if ga.msal_version() < (1, 35):
        assert cred['thumbprint'] == cert.fingerprint(hashes.SHA1()).hex().upper()
    else:
        assert 'thumbprint' not in cred
    assert captured['instance_discovery'] is False and captured['authority'] == 'https://login.test/' + TENANT
    assert captured['scopes'] == ['https://graph.microsoft.com/.default']


def test_certificate_pfx(fake, make, tmp_path, key_cert, monkeypatch):
    key, cert = key_cert
    path = tmp_path / 'cred.pfx'
    path.write_bytes(pkcs12.serialize_key_and_certificates(b'x', key, cert, None,
                                                           serialization.BestAvailableEncryption(b'pfxpw')))
    captured = _capture_app(monkeypatch)
    fake.graph = [(200, {}, {})]
    make(client_secret=None, client_certificate_path=str(path), client_certificate_password='pfxpw').get('/x')
    assert captured['client_credential']['public_certificate'] == cert.public_bytes(serialization.Encoding.PEM).decode()


def test_certificate_without_certificate_part_rejected(make, tmp_path, key_cert):
    key, dummy = key_cert
    path = tmp_path / 'key-only.pem'
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    with pytest.raises(GraphAuthError) as exc:
        make(client_secret=None, client_certificate_path=str(path)).get('/x')
    assert 'must hold both a private key and a certificate' in str(exc.value)


def test_certificate_assertion_signed_by_real_msal(fake, make, tmp_path, key_cert):
    """msal for real: the assertion it posts names our certificate and verifies with its public key."""
    key, cert = key_cert
    path = tmp_path / 'cred.pem'
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()) + cert.public_bytes(serialization.Encoding.PEM))
    fake.graph = [(200, {}, {})]
    make(client_secret=None, client_certificate_path=str(path)).get('/x')
    assertion = fake.assertions[0]
    header = jwt.get_unverified_header(assertion)
    der = cert.public_bytes(serialization.Encoding.DER)
    if 'x5t#S256' in header:
        assert header['x5t#S256'].rstrip('=') == base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA256())).decode().rstrip('=')
    else:
        assert header['x5t'].rstrip('=') == base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA1())).decode().rstrip('=')
    assert base64.b64decode(re.sub(r'\s', '', header['x5c'][0])) == der
    claims = jwt.decode(assertion, key.public_key(), algorithms=['RS256', 'PS256'],
                        audience='https://login.test/%s/oauth2/v2.0/token' % TENANT)
    assert claims['iss'] == claims['sub'] == CLIENT


def test_federated_token_file_read_on_each_assertion(fake, make, tmp_path, monkeypatch):
    token_file = tmp_path / 'federated-token'
    token_file.write_text('first-jwt\n')
    captured = _capture_app(monkeypatch)
    fake.graph = [(200, {}, {})]
    make(client_secret=None, federated_token_file=str(token_file)).get('/x')
    assertion = captured['client_credential']['client_assertion']
    assert assertion() == 'first-jwt'
    token_file.write_text('rotated-jwt')
    assert assertion() == 'rotated-jwt'


def test_federated_token_reaches_token_endpoint(fake, make, tmp_path):
    token_file = tmp_path / 'federated-token'
    token_file.write_text('eyJfederated.jwt.value')
    fake.graph = [(200, {}, {})]
    make(client_secret=None, federated_token_file=str(token_file)).get('/x')
    assert fake.assertions == ['eyJfederated.jwt.value']


@pytest.mark.parametrize('mi_client_id', [None, 'mi-client'])
def test_managed_identity(fake, make, monkeypatch, mi_client_id):
    captured = {}

    class MI(object):
        def __init__(self, identity, http_client, token_cache=None, http_cache=None):  # msal's keywords
            captured['identity'] = dict(identity)
            captured['http_client'] = http_client
            captured['http_cache'] = http_cache

        def acquire_token_for_client(self, resource):
            captured['resource'] = resource
            return {'access_token': 'mi-token', 'expires_in': 3600, 'token_source': 'identity_provider'}
    monkeypatch.setattr(ga.msal, 'ManagedIdentityClient', MI)
    fake.graph = [(200, {}, {})]
    client = make(tenant_id=None, client_id=None, client_secret=None, managed_identity=True,
                  managed_identity_client_id=mi_client_id)
    client.get('/x')
    assert captured['resource'] == 'https://graph.microsoft.com'
    assert captured['http_client'] is client.session
    assert captured['http_cache'] is client.tokens.http_cache  # emptied before a token retry
    if mi_client_id:
        assert captured['identity'] == {'ManagedIdentityIdType': 'ClientId', 'Id': 'mi-client'}
    else:
        assert captured['identity']['ManagedIdentityIdType'] == 'SystemAssigned'
    assert fake.graph_calls()[0]['headers']['Authorization'] == 'Bearer mi-token'


def test_msal_is_the_real_library():
    assert ga.msal is msal and ga.HAS_MSAL and gc.HAS_REQUESTS and ga.HAS_CRYPTOGRAPHY

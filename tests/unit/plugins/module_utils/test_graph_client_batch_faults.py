# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""$batch after a lost answer (issue 9): which batches the client sends again, and which inner answers it retries.

Found by tests/integration/test_faults.py: a 503 on the $batch that deletes the import records (DELETE items only)
and a 5xx on the sync POST failed the whole autopilot_device task without a retry.
"""

import json

import pytest
import requests

from tests.unit.plugins.module_utils.test_graph_client import GRAPH, fake, graph_error, make  # noqa: F401 pylint: disable=unused-import


def _ok(request):
    items = json.loads(request.body)['requests']
    return 200, {}, {'responses': [{'id': i['id'], 'status': 204, 'headers': {}, 'body': None} for i in items]}


@pytest.mark.parametrize('items', [
    [{'method': 'DELETE', 'url': '/deviceManagement/importedWindowsAutopilotDeviceIdentities/1'}],
    [{'method': 'POST', 'url': '/deviceManagement/windowsAutopilotDeviceIdentities/1/assignUserToDevice',
      'body': {'userPrincipalName': 'a@b.com'}, 'repeatable': True},
     {'method': 'PATCH', 'url': '/groups/1', 'body': {'description': 'd'}}],
])
def test_repeatable_batch_is_sent_again_after_5xx_and_drop(fake, make, items):  # noqa: F811
    fake.graph = [(503, {}, graph_error(503, 'serviceNotAvailable', 'x')), requests.exceptions.ConnectionError('reset'), _ok]
    client = make()
    out = client.batch(items)
    assert [o['status'] for o in out] == [204] * len(items)
    assert len(fake.graph_calls()) == 3
    assert client.warnings[0].startswith('Retrying POST /beta/$batch: 503 serviceNotAvailable, attempt 2 of 6')
    sent = json.loads(fake.graph_calls()[-1]['body'])['requests']
    assert all('repeatable' not in item for item in sent), 'the repeatable flag is not sent to Graph'


def test_batch_with_a_plain_post_is_not_sent_again_after_5xx(fake, make):  # noqa: F811
    fake.graph = [(503, {}, graph_error(503, 'serviceNotAvailable', 'x'))]
    client = make()
    with pytest.raises(Exception) as caught:
        client.batch([{'method': 'POST', 'url': '/groups', 'body': {}},
                      {'method': 'DELETE', 'url': '/groups/1'}])
    assert getattr(caught.value, 'status', None) == 503
    assert len(fake.graph_calls()) == 1


def test_inner_500_retried_for_repeatable_items_only(fake, make):  # noqa: F811
    rounds = []

    def answer(request):
        items = json.loads(request.body)['requests']
        rounds.append([i['id'] for i in items])
        if len(rounds) == 1:
            return 200, {}, {'responses': [{'id': i['id'], 'status': 500, 'headers': {},
                                            'body': graph_error(500, 'generalException', 'x')} for i in items]}
        return _ok(request)
    fake.graph = [answer, answer]
    client = make()
    out = client.batch([{'method': 'DELETE', 'url': '/a/1'},
                        {'method': 'POST', 'url': '/a/2/act', 'repeatable': True},
                        {'method': 'POST', 'url': '/a'}])
    assert rounds == [['1', '2', '3'], ['1', '2']]
    assert [o['status'] for o in out] == [204, 204, 500]
    assert client.warnings == [w for w in client.warnings if w.startswith('Retrying 2 of 3 requests in POST /beta/$batch: 500')]

# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 15: the exchange log (INTUNE_GRAPH_EXCHANGE_LOG / exchange_log) of a real ansible-playbook run.

The file is checked against the emulator's own request log: every exchange the emulator saw during the run is a
line of the file with the same request-id, method and status, and the $batch line holds the inner requests the
emulator ran. Nothing secret is in it: not the client secret, no token, no whole hardware hash or product key.
"""

import base64
import hashlib
import json
import os
import stat
import uuid

from tests.integration.harness import assert_no_secret, assert_no_token, find_jwts

DEVICE = 'intune.autopilot.autopilot_device'
FAST = {'poll_interval': 1, 'wait_timeout': 120}
PRODUCT_KEY = 'NKJFK-GPHP7-G8C3J-P6JXR-HQRJR'


def play(*tasks):
    return json.dumps([{'name': 'exchange log', 'hosts': 'localhost', 'gather_facts': False, 'tasks': list(tasks)}])


def test_a_run_logs_every_exchange_masked(run_playbook, emulator, tmp_path):
    serial = 'X' + uuid.uuid4().hex[:8].upper()
    hardware_hash = base64.b64encode(hashlib.sha512(serial.encode()).digest() * 8).decode()
    upn = 'exlog.%s@contoso.example' % serial.lower()
    emulator.seed({'sets': {'users': [{'id': str(uuid.uuid4()), 'userPrincipalName': upn, 'displayName': 'Ex Log',
                                       'accountEnabled': True}]}})
    log = tmp_path / 'exchanges.jsonl'
    playbook = play(
        {'name': 'Import', DEVICE: dict(serial_number=serial, hardware_identifier=hardware_hash, product_key=PRODUCT_KEY,
                                        group_tag='LOG', **FAST)},
        {'name': 'Assign', DEVICE: dict(serial_number=serial, assigned_user=upn, addressable_user_name='Ex')},
        {'name': 'Unassign', DEVICE: dict(serial_number=serial, assigned_user='')},
    )
    mark = emulator.mark()
    # A fresh token cache, so that the run asks the token service too.
    run_playbook(playbook, env_extra={'INTUNE_GRAPH_EXCHANGE_LOG': str(log),
                                      'XDG_CACHE_HOME': str(tmp_path / 'cache')}).assert_ok()
    seen = emulator.requests_since(mark)

    assert stat.S_IMODE(os.stat(str(log)).st_mode) == 0o600
    text = log.read_text()
    assert_no_secret(text, emulator.client_secret, 'client secret')
    assert_no_token(text)
    assert find_jwts(text) == []
    assert hardware_hash[:40] not in text and PRODUCT_KEY not in text and 'Authorization' not in text
    lines = [json.loads(line) for line in text.splitlines()]

    outer = [e for e in seen if not e.get('batch_request_id')]
    by_id = dict((line['request_id'], line) for line in lines if line.get('request_id'))
    assert len(lines) == len(outer) and len(by_id) == len(outer)
    for entry in outer:
        line = by_id[entry['request_id']]
        assert (line['method'], line['status']) == (entry['method'], entry['status'])
        assert line['url'].endswith(entry['path']) and line['time'].endswith('Z') and line['duration_ms'] >= 0
    assert len(set(line['pid'] for line in lines)) == 3, 'one process per task, all in the one file'

    tokens = [line for line in lines if line['url'].endswith('/oauth2/v2.0/token')]
    assert tokens and all(t['status'] == 200 for t in tokens)
    assert tokens[0]['request']['client_secret'] == '********' and tokens[0]['response']['access_token'] == '********'

    imported = [line for line in lines if line['method'] == 'POST' and line['url'].endswith('/import')]
    assert len(imported) == 1
    record = imported[0]['request']['importedWindowsAutopilotDeviceIdentities'][0]
    assert record['serialNumber'] == serial and record['groupTag'] == 'LOG'
    assert record['hardwareIdentifier'] == '%s... (%d characters)' % (hardware_hash[:6], len(hardware_hash))
    assert record['productKey'] == 'NKJFK-... (29 characters)'

    batches = [line for line in lines if line['url'].endswith('/$batch')]
    unassign = [b for b in batches if any(r['url'].endswith('/unassignUserFromDevice') for r in b['request']['requests'])]
    assert len(unassign) == 1
    inner = [r for r in unassign[0]['request']['requests'] if r['url'].endswith('/unassignUserFromDevice')][0]
    assert inner['body'] == {} and inner['headers'] == {'Content-Type': 'application/json'}
    ran = [e for e in seen if e.get('batch_request_id') == unassign[0]['request_id']]
    answered = dict((r['id'], r['status']) for r in unassign[0]['response']['responses'])
    assert [answered[inner['id']]] == [e['status'] for e in ran] == [204]

# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The harness itself: emulator profiles, and the request-log check every test runs (conftest.py)."""

from tests.integration import harness


def test_start_and_reset_on_either_profile(start_emulator, monkeypatch):
    emu = start_emulator(profile='realistic')
    assert emu.profile == 'realistic'
    assert emu.control('GET', 'settings')['sync_duration'] == 180.0
    emu.reset(profile='best-case', page_size=3)
    settings = emu.control('GET', 'settings')
    assert (settings['profile'], settings['page_size'], settings['sync_duration']) == ('best-case', 3, 10.0)
    emu.reset()
    assert emu.control('GET', 'settings')['profile'] == 'realistic'
    monkeypatch.setenv(harness.PROFILE_ENV, 'realistic')
    assert start_emulator('--import-delay', '1').profile == 'realistic'
    assert start_emulator('--profile', 'best-case').profile == 'best-case'
    monkeypatch.delenv(harness.PROFILE_ENV)
    assert start_emulator().profile == harness.DEFAULT_PROFILE


def batch_entry(*requests):
    return {'method': 'POST', 'path': '/beta/$batch', 'status': 200, 'request_id': 'r-1', 'seq': 7,
            'request_body': {'requests': list(requests)}}


JSON = {'Content-Type': 'application/json'}


def test_batch_write_check_names_each_offending_request():
    entries = [
        batch_entry({'id': '1', 'method': 'POST', 'url': '/deviceManagement/windowsAutopilotDeviceIdentities/x/'
                                                         'unassignUserFromDevice'},
                    {'id': '2', 'method': 'PATCH', 'url': '/a', 'body': {'b': 1}},
                    {'id': '3', 'method': 'POST', 'url': '/c', 'body': {}, 'headers': {'content-type': 'application/json'}},
                    {'id': '4', 'method': 'DELETE', 'url': '/d'},
                    {'id': '5', 'method': 'GET', 'url': '/e'}),
        {'method': 'POST', 'path': '/beta/deviceManagement/x', 'request_body': None, 'request_id': 'r-2', 'seq': 8},
    ]
    found = harness.batch_writes_without_body(entries)
    assert found == [
        'POST /beta/$batch (log seq 7, request-id r-1) item 1: POST /deviceManagement/windowsAutopilotDeviceIdentities/x/'
        'unassignUserFromDevice has no body and no Content-Type',
        'POST /beta/$batch (log seq 7, request-id r-1) item 2: PATCH /a has no Content-Type',
    ]
    assert harness.batch_writes_without_body([batch_entry({'id': '1', 'method': 'POST', 'url': '/c', 'body': {},
                                                           'headers': JSON})]) == []


def test_the_check_reads_what_the_emulator_logged(emulator):
    """What the conftest fixture does after each test, on a log holding one bodyless write (read here, so that
    the fixture, which reads only what is new, does not fail this test)."""
    emulator.new_log_entries()
    emulator.reset()
    token = emulator.http.post('%s/%s/oauth2/v2.0/token' % (emulator.url, emulator.tenant_id), verify=emulator.ca_path,
                               data={'grant_type': 'client_credentials', 'client_id': emulator.client_id,
                                     'client_secret': emulator.client_secret,
                                     'scope': 'https://graph.microsoft.com/.default'}).json()['access_token']
    emulator.http.post(emulator.url + '/beta/$batch', verify=emulator.ca_path, headers={'Authorization': 'Bearer ' + token},
                       json={'requests': [{'id': '1', 'method': 'POST', 'url': '/deviceManagement/windowsAutopilotSettings/sync'}]})
    [found] = harness.batch_writes_without_body(emulator.new_log_entries())
    assert found.startswith('POST /beta/$batch (log seq ')
    assert found.endswith('item 1: POST /deviceManagement/windowsAutopilotSettings/sync has no body and no Content-Type')
    assert emulator.new_log_entries() == []

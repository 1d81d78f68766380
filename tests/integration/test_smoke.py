# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The harness end to end: real ansible-playbook, environment pointing at the emulator, the
emulator's TLS trusted through REQUESTS_CA_BUNDLE, results read back through the callback, and the
request log telling reads from writes (so that "check mode writes nothing" can fail)."""

import json
import uuid

SMOKE = r"""
- name: Harness smoke test
  hosts: localhost
  gather_facts: false
  vars:
    base: "{{ lookup('ansible.builtin.env', 'INTUNE_GRAPH_URL') }}"
    ca: "{{ lookup('ansible.builtin.env', 'REQUESTS_CA_BUNDLE') }}"
  tasks:
    - name: Read the emulator state
      ansible.builtin.uri:
        url: "{{ base }}/_emulator/state"
        ca_path: "{{ ca }}"
      check_mode: false

    - name: Get a token
      ansible.builtin.uri:
        url: "{{ lookup('ansible.builtin.env', 'AZURE_AUTHORITY_HOST') }}/{{ lookup('ansible.builtin.env', 'AZURE_TENANT_ID') }}/oauth2/v2.0/token"
        method: POST
        ca_path: "{{ ca }}"
        body_format: form-urlencoded
        body:
          grant_type: client_credentials
          client_id: "{{ lookup('ansible.builtin.env', 'AZURE_CLIENT_ID') }}"
          client_secret: "{{ lookup('ansible.builtin.env', 'AZURE_CLIENT_SECRET') }}"
          scope: https://graph.microsoft.com/.default
      check_mode: false
      no_log: true
      register: token

    - name: List groups
      ansible.builtin.uri:
        url: "{{ base }}/v1.0/groups"
        ca_path: "{{ ca }}"
        headers:
          Authorization: "Bearer {{ token.json.access_token }}"
      check_mode: false

    - name: Create a group
      ansible.builtin.uri:
        url: "{{ base }}/v1.0/groups"
        method: POST
        ca_path: "{{ ca }}"
        status_code: 201
        body_format: json
        body:
          displayName: "{{ group_name }}"
          mailEnabled: false
          mailNickname: "{{ group_name }}"
          securityEnabled: true
        headers:
          Authorization: "Bearer {{ token.json.access_token }}"
      when: create | bool
      changed_when: true
"""


def test_playbook_reads_from_the_emulator(emulator, run_playbook):
    mark = emulator.mark()
    result = run_playbook(SMOKE, extra_vars={'create': False, 'group_name': 'unused'}).assert_ok()

    assert isinstance(result.task('Read the emulator state')['json'], dict)
    assert result.task('Get a token').get('censored'), 'no_log result must reach the callback censored'
    groups = result.task('List groups')
    assert groups['status'] == 200
    assert isinstance(groups['json']['value'], list)
    assert result.tasks[-1]['status'] == 'skipped'
    assert result.stats['localhost']['failed'] == 0 and result.changed == 0

    # What Ansible got is what the emulator logged for that request, and nothing was written.
    logged = [e for e in emulator.requests_since(mark) if e['method'] == 'GET' and e['path'].startswith('/v1.0/groups')]
    assert len(logged) == 1 and logged[0]['status'] == 200
    body = logged[0]['response_body']
    if isinstance(body, str):
        body = json.loads(body)
    assert [g['id'] for g in body['value']] == [g['id'] for g in groups['json']['value']]
    assert emulator.writes_since(mark) == []


def test_writes_since_sees_a_write(emulator, run_playbook):
    name = 'smoke-%s' % uuid.uuid4().hex[:8]
    mark = emulator.mark()
    result = run_playbook(SMOKE, extra_vars={'create': True, 'group_name': name}).assert_ok()

    created = result.task('Create a group')
    assert created['status'] == 201 and created['json']['displayName'] == name
    assert result.changed == 1
    writes = emulator.writes_since(mark)
    assert [(w['method'], w['path'].split('?')[0]) for w in writes] == [('POST', '/v1.0/groups')]
    assert name in json.dumps(emulator.state())

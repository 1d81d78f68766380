# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 3: at -vvv neither the client secret nor an access token appears in Ansible's output, and
the token cache never holds the secret."""

import pytest

from tests.integration.harness import REPO_ROOT, assert_no_secret, assert_no_token

pytestmark = pytest.mark.skipif(not (REPO_ROOT / 'plugins' / 'modules' / 'aad_group_info.py').exists(),
                                reason='plugins/modules/aad_group_info.py does not exist yet')

PLAYBOOK = r"""
- name: Read groups at -vvv
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Find groups (environment credentials)
      intune.autopilot.aad_group_info:
        display_name: No such group
    - name: Find groups (secret given as an option)
      intune.autopilot.aad_group_info:
        display_name: No such group
        client_secret: "{{ lookup('ansible.builtin.env', 'AZURE_CLIENT_SECRET') }}"
"""


def test_no_secret_or_token_at_vvv(emulator, run_playbook):
    result = run_playbook(PLAYBOOK, verbosity=3).assert_ok()
    assert result.task('Find groups (environment credentials)')['groups'] == []

    assert_no_secret(result.output, emulator.client_secret, 'client secret')
    assert_no_token(result.output)
    for task in result.tasks:
        text = str(task['result'])
        assert_no_secret(text, emulator.client_secret, 'client secret')
        assert_no_token(text)

    cache_files = [p for p in emulator.cache_home.rglob('*') if p.is_file()]
    for path in cache_files:
        assert_no_secret(path.read_text(errors='replace'), emulator.client_secret, 'client secret in %s' % path)

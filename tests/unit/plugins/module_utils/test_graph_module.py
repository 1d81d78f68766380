"""Unit tests of GraphModule: connection options, environment fallbacks, validation, error edges. No network."""

import contextlib
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.intune.autopilot.plugins.module_utils import _graph_module as gm
from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import EngineError, Problems
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphClient, GraphError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_module import GRAPH_ARGSPEC, GraphModule
from ansible_collections.intune.autopilot.plugins.module_utils._graph_permissions import error_hint

ENV_NAMES = ['AZURE_TENANT_ID', 'AZURE_TENANT', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_SECRET',
             'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_CLIENT_CERTIFICATE_PASSWORD', 'AZURE_FEDERATED_TOKEN_FILE',
             'AZURE_AUTHORITY_HOST', 'INTUNE_GRAPH_URL', 'REQUESTS_CA_BUNDLE', 'AZURE_CLOUD_ENVIRONMENT',
             'INTUNE_GRAPH_EXCHANGE_LOG']
SECRET = 'module-secret-value-42'


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def build():
    """Build a GraphModule from args; the patched module arguments stay in place until the test ends."""
    with contextlib.ExitStack() as stack:
        def factory(args, argument_spec=None):
            stack.enter_context(patch_module_args(args))
            return GraphModule(argument_spec=argument_spec)
        yield factory


def outcome(capsys, fn):
    """Run fn, expect the module to exit, return the parsed JSON result."""
    with pytest.raises(SystemExit):
        fn()
    return json.loads(capsys.readouterr().out)


def test_env_fallbacks_take_first_non_empty(build, monkeypatch):
    monkeypatch.setenv('AZURE_TENANT_ID', '')  # AWX injects '' for empty fields
    monkeypatch.setenv('AZURE_TENANT', 'tenant-from-awx')
    monkeypatch.setenv('AZURE_CLIENT_ID', 'client-x')
    monkeypatch.setenv('AZURE_CLIENT_SECRET', '  ')
    monkeypatch.setenv('AZURE_SECRET', SECRET)
    monkeypatch.setenv('AZURE_CLIENT_CERTIFICATE_PATH', '')
    monkeypatch.setenv('AZURE_AUTHORITY_HOST', 'https://127.0.0.1:8443/')
    monkeypatch.setenv('INTUNE_GRAPH_URL', 'https://127.0.0.1:8443')
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', '/tmp/emulator-ca.pem')
    module = build({})
    conn = module._connection
    assert conn['tenant_id'] == 'tenant-from-awx'
    assert conn['client_secret'] == SECRET
    assert conn['client_certificate_path'] is None
    assert conn['authority_url'] == 'https://127.0.0.1:8443/'
    assert conn['graph_url'] == 'https://127.0.0.1:8443'
    assert conn['ca_path'] == '/tmp/emulator-ca.pem'
    client = module.client
    assert isinstance(client, GraphClient)
    assert client.tokens.credential.authority == 'https://127.0.0.1:8443/tenant-from-awx'
    assert client.url('/groups') == 'https://127.0.0.1:8443/beta/groups'
    assert client.verify == '/tmp/emulator-ca.pem'
    assert module.client is client  # built once


def test_primary_env_name_wins(build, monkeypatch):
    monkeypatch.setenv('AZURE_TENANT_ID', 'primary')
    monkeypatch.setenv('AZURE_TENANT', 'secondary')
    monkeypatch.setenv('AZURE_CLIENT_SECRET', 'a')
    monkeypatch.setenv('AZURE_SECRET', 'b')
    module = build({'client_id': 'c'})
    assert module._connection['tenant_id'] == 'primary' and module._connection['client_secret'] == 'a'


def test_task_option_beats_environment(build, monkeypatch):
    monkeypatch.setenv('AZURE_TENANT_ID', 'from-env')
    module = build({'tenant_id': 'from-task', 'client_id': 'c', 'client_secret': 'unit-secret'})
    assert module._connection['tenant_id'] == 'from-task'


def test_explicit_empty_strings_count_as_unset(build, monkeypatch):
    module = build({'tenant_id': 't', 'client_id': 'c', 'client_secret': 'unit-secret', 'client_certificate_path': '',
                    'federated_token_file': '', 'authority_url': '', 'graph_url': '', 'ca_path': ''})
    conn = module._connection
    assert conn['client_certificate_path'] is None and conn['federated_token_file'] is None
    assert module.client.url('x') == 'https://graph.microsoft.com/beta/x'
    assert module.client.verify is True


def test_empty_certificate_file_counts_as_unset(build, tmp_path, capsys, monkeypatch):
    empty = tmp_path / 'awx-cert.pem'
    empty.write_text('')
    monkeypatch.setenv('AZURE_CLIENT_CERTIFICATE_PATH', str(empty))
    module = build({'tenant_id': 't', 'client_id': 'c', 'client_secret': 'unit-secret'})
    assert module._connection['client_certificate_path'] is None
    result = outcome(capsys, lambda: build({'tenant_id': 't', 'client_id': 'c'}))
    assert result['failed'] and result['msg'].startswith('No credential given: set one of client_secret')


def test_missing_certificate_file_named(build, tmp_path, capsys):
    result = outcome(capsys, lambda: build({'tenant_id': 't', 'client_id': 'c',
                                            'client_certificate_path': str(tmp_path / 'nope.pem')}))
    assert result['msg'] == "client_certificate_path '%s' does not exist" % (tmp_path / 'nope.pem')


def test_two_credentials_rejected(build, tmp_path, capsys, monkeypatch):
    cert = tmp_path / 'c.pem'
    cert.write_text('not empty')
    monkeypatch.setenv('AZURE_CLIENT_SECRET', SECRET)
    result = outcome(capsys, lambda: build({'tenant_id': 't', 'client_id': 'c', 'client_certificate_path': str(cert)}))
    assert result['msg'].startswith('Set exactly one kind of credential, got client_secret and client_certificate_path')
    assert 'AZURE_CLIENT_SECRET' in result['msg']
    assert SECRET not in json.dumps(result)


def test_missing_tenant_and_client_named(build, capsys):
    result = outcome(capsys, lambda: build({'client_secret': 'unit-secret'}))
    assert result['msg'] == ('tenant_id and client_id are required with client_secret (environment: '
                             'AZURE_TENANT_ID or AZURE_TENANT, AZURE_CLIENT_ID)')


def test_managed_identity_needs_no_tenant_or_client(build):
    module = build({'managed_identity': True, 'managed_identity_client_id': 'mi'})
    assert module._connection['managed_identity'] is True
    assert module.client.tokens.credential.who() == "managed identity 'mi'"


def test_bad_numbers_rejected(build, capsys):
    result = outcome(capsys, lambda: build({'tenant_id': 't', 'client_id': 'c', 'client_secret': 'unit-secret', 'timeout': 0}))
    assert result['msg'] == 'timeout must be at least 1, got 0'


def test_argument_spec_merged_and_check_mode_default(build):
    module = build({'tenant_id': 't', 'client_id': 'c', 'client_secret': 'unit-secret', 'name': 'x', '_ansible_check_mode': True},
                   argument_spec={'name': {'type': 'str'}})
    assert module.params['name'] == 'x' and module.check_mode
    assert 'name' not in GRAPH_ARGSPEC


def test_secret_options_are_no_log():
    assert GRAPH_ARGSPEC['client_secret']['no_log'] is True
    assert GRAPH_ARGSPEC['client_certificate_password']['no_log'] is True


def recorded_warnings(module, monkeypatch):
    """What the module was asked to warn, in order. (Where Ansible puts a warning depends on whether controller code was
    imported in this process, as the action and filter plugin tests do, so the test looks at the call, not the JSON.)"""
    seen = []
    monkeypatch.setattr(module, 'warn', seen.append)
    return seen


def test_run_ends_the_task_with_the_result_and_its_warnings(build, capsys, monkeypatch):
    module = build({'tenant_id': 't', 'client_id': 'c', 'client_secret': SECRET})
    warned = recorded_warnings(module, monkeypatch)
    result = outcome(capsys, lambda: module.run(lambda: {'changed': True, 'devices': [], 'warnings': ['one', 'two']}))
    assert result['changed'] is True and result['devices'] == []
    assert warned == ['one', 'two']


def test_run_fails_an_engine_error_with_its_extra_keys(build, capsys):
    module = build({'tenant_id': 't', 'client_id': 'c', 'client_secret': SECRET})
    problems = Problems()
    problems.add("members[0]: no user named 'x@contoso.com' was found.")
    problems.add('wait_timeout: must be at least 0.')

    def bad_input():
        problems.check()
    result = outcome(capsys, lambda: module.run(bad_input))
    assert result['failed'] is True and result['msg'].startswith('2 problems, found before any change: (1) members[0]')
    assert result['problems'] == problems.items

    def partial():
        raise EngineError('3 of 10 devices failed', devices=[{'serial_number': 'S1'}], summary={'failed': 3})
    result = outcome(capsys, lambda: module.run(partial))
    assert (result['msg'], result['devices'], result['summary']) == ('3 of 10 devices failed', [{'serial_number': 'S1'}],
                                                                     {'failed': 3})


def test_run_turns_errors_into_fail_json(build, capsys):
    module = build({'tenant_id': 't', 'client_id': 'c', 'client_secret': SECRET})

    def graph_failure():
        raise GraphError('down', status=503, code='serviceNotAvailable')
    result = outcome(capsys, lambda: module.run(graph_failure))
    assert result['msg'] == 'Failed to talk to Microsoft Graph: serviceNotAvailable: down' and result['status'] == 503

    def bug():
        raise KeyError('oops %s' % SECRET)
    result = outcome(capsys, lambda: module.run(bug))
    assert result['msg'].startswith('KeyError: ')
    assert SECRET not in json.dumps(result)  # AnsibleModule masks no_log values everywhere

    assert module.run(lambda: 'value') == 'value'


def test_retry_warnings_reach_the_module(build, monkeypatch):
    module = build({'tenant_id': 't', 'client_id': 'c', 'client_secret': 'unit-secret', 'max_retries': 3,
                    'retry_max_delay': 2.5, 'token_cache': False})
    warned = recorded_warnings(module, monkeypatch)
    client = module.client
    assert client.max_retries == 3 and client.retry_max_delay == 2.5 and client.tokens.cache_file is None
    client._warn('Retrying GET /beta/x: 429 TooManyRequests, attempt 2 of 4, waiting 1.0 s')
    assert warned == ['Retrying GET /beta/x: 429 TooManyRequests, attempt 2 of 4, waiting 1.0 s']


def test_missing_msal_reported(build, monkeypatch, capsys):
    module = build({'tenant_id': 't', 'client_id': 'c', 'client_secret': 'unit-secret'})
    monkeypatch.setattr(gm, 'HAS_MSAL', False)
    result = outcome(capsys, lambda: module.client)
    assert 'msal' in result['msg'] and 'Failed to import the required Python library' in result['msg']


@pytest.mark.parametrize('value, cloud', [('AzureUSGovernment', 'usgov'), ('AzureChinaCloud', 'china'), ('usgov_dod', 'usgov_dod'),
                                          ('', 'public')])
def test_cloud_from_awx_environment(build, monkeypatch, value, cloud):
    monkeypatch.setenv('AZURE_CLOUD_ENVIRONMENT', value)
    module = build({'tenant_id': 't', 'client_id': 'c', 'client_secret': 'unit-secret'})
    assert module.params['cloud'] == cloud


def test_unknown_cloud_from_environment_rejected(build, monkeypatch, capsys):
    monkeypatch.setenv('AZURE_CLOUD_ENVIRONMENT', 'AzureGermanCloud')
    result = outcome(capsys, lambda: build({'tenant_id': 't', 'client_id': 'c', 'client_secret': 'unit-secret'}))
    assert 'cloud' in result['msg'] and 'AzureGermanCloud' in result['msg']


def test_graph_stats_only_on_request(build, capsys, monkeypatch):
    module = build({'tenant_id': 't', 'client_id': 'c', 'client_secret': 'unit-secret'})
    module.client.stats['retries'] = 3
    module.client.stats['by_status'][429] = 3
    assert 'graph_stats' not in outcome(capsys, lambda: module.exit_json(changed=False))
    monkeypatch.setenv('INTUNE_GRAPH_STATS', '1')
    result = outcome(capsys, lambda: module.fail_json(msg='x'))
    assert result['graph_stats']['retries'] == 3 and result['graph_stats']['by_status'] == {'429': 3}


def test_exchange_log_from_the_environment_with_the_secrets_to_mask(build, monkeypatch, tmp_path):
    monkeypatch.setenv('INTUNE_GRAPH_EXCHANGE_LOG', str(tmp_path / 'exchanges.jsonl'))
    module = build({'tenant_id': 't', 'client_id': 'c', 'client_secret': SECRET})
    log = module.client.session.exchange_log
    assert log.path == str(tmp_path / 'exchanges.jsonl') and log.secrets == (SECRET,)
    assert not (tmp_path / 'exchanges.jsonl').exists()  # written by the first exchange, not before
    assert build({'tenant_id': 't', 'client_id': 'c', 'client_secret': SECRET, 'exchange_log': ''}).client.session.exchange_log is None


@pytest.mark.parametrize('where', ['missing/exchanges.jsonl', '.'])
def test_exchange_log_outside_an_existing_directory_rejected(build, tmp_path, capsys, where):
    path = str(tmp_path / where)
    result = outcome(capsys, lambda: build({'tenant_id': 't', 'client_id': 'c', 'client_secret': SECRET, 'exchange_log': path}))
    assert result['msg'] == "exchange_log '%s' must be a file in an existing directory" % path


def test_the_client_names_permissions_after_a_403(build):
    assert build({'tenant_id': 't', 'client_id': 'c', 'client_secret': SECRET}).client.error_hint is error_hint

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AnsibleModule subclass every module of the collection uses.

Internal to this collection (the leading underscore): it may change in any release without notice.
It merges the connection options (documented once in doc_fragments/graph_auth.py), validates them before any
call, builds one GraphClient per module run and is the one error edge: :meth:`GraphModule.run` turns the result of a
module's work into ``exit_json`` and every exception into ``fail_json``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import os
import traceback

from ansible.module_utils.basic import AnsibleFallbackNotFound, AnsibleModule, missing_required_lib

from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import EngineError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_auth import (
    CLOUDS, CREDENTIALS, CRYPTOGRAPHY_IMPORT_ERROR, HAS_CRYPTOGRAPHY, HAS_MSAL, MSAL_IMPORT_ERROR, NEEDS_APP_REGISTRATION,
)
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import (
    HAS_REQUESTS, REQUESTS_IMPORT_ERROR, GraphAuthError, GraphClient, GraphError,
)
from ansible_collections.intune.autopilot.plugins.module_utils._graph_permissions import error_hint


def env_fallback_nonempty(*names):
    """Like Ansible's env_fallback, but an empty (or blank) variable counts as unset: AWX injects '' for empty fields."""
    for name in names:
        value = os.environ.get(name)
        if value is not None and value.strip() != '':
            return value
    raise AnsibleFallbackNotFound


def _env(*names):
    return (env_fallback_nonempty, list(names))


# AZURE_CLOUD_ENVIRONMENT as the AWX Azure credential and azure.azcollection write it (msrestazure cloud names).
AZURE_CLOUD_NAMES = {'azurecloud': 'public', 'azureusgovernment': 'usgov', 'azurechinacloud': 'china'}


def cloud_fallback():
    value = env_fallback_nonempty('AZURE_CLOUD_ENVIRONMENT')
    return AZURE_CLOUD_NAMES.get(value.strip().lower(), value.strip())


GRAPH_ARGSPEC = dict(
    tenant_id=dict(type='str', fallback=_env('AZURE_TENANT_ID', 'AZURE_TENANT')),
    client_id=dict(type='str', fallback=_env('AZURE_CLIENT_ID')),
    client_secret=dict(type='str', no_log=True, fallback=_env('AZURE_CLIENT_SECRET', 'AZURE_SECRET')),
    client_certificate_path=dict(type='path', fallback=_env('AZURE_CLIENT_CERTIFICATE_PATH')),
    client_certificate_password=dict(type='str', no_log=True, fallback=_env('AZURE_CLIENT_CERTIFICATE_PASSWORD')),
    managed_identity=dict(type='bool', default=False),
    managed_identity_client_id=dict(type='str'),
    federated_token_file=dict(type='path', no_log=False, fallback=_env('AZURE_FEDERATED_TOKEN_FILE')),
    cloud=dict(type='str', default='public', choices=sorted(CLOUDS), fallback=(cloud_fallback, [])),
    authority_url=dict(type='str', fallback=_env('AZURE_AUTHORITY_HOST')),
    graph_url=dict(type='str', fallback=_env('INTUNE_GRAPH_URL')),
    ca_path=dict(type='path', fallback=_env('REQUESTS_CA_BUNDLE')),
    timeout=dict(type='int', default=30),
    max_retries=dict(type='int', default=5),
    retry_max_delay=dict(type='float', default=60.0),
    token_cache=dict(type='bool', default=True, no_log=False),
    exchange_log=dict(type='path', fallback=_env('INTUNE_GRAPH_EXCHANGE_LOG')),
)

_STRING_OPTIONS = [name for name, spec in GRAPH_ARGSPEC.items() if spec['type'] in ('str', 'path')]

CREDENTIAL_ENV = {
    'client_secret': 'AZURE_CLIENT_SECRET',
    'client_certificate_path': 'AZURE_CLIENT_CERTIFICATE_PATH',
    'federated_token_file': 'AZURE_FEDERATED_TOKEN_FILE',
}


def connection_params(params):
    """The GraphClient keyword arguments from module parameters, or raise ValueError naming what is wrong.

    Empty strings count as unset, and so does a certificate file that exists but is empty (AWX writes the file even
    when its field is empty). No network is touched here.
    """
    p = dict((k, params.get(k)) for k in GRAPH_ARGSPEC)
    for name in _STRING_OPTIONS:
        if isinstance(p[name], str) and p[name].strip() == '':
            p[name] = None
    cert = p['client_certificate_path']
    if cert:
        if not os.path.exists(cert):
            raise ValueError("client_certificate_path '%s' does not exist" % cert)
        if os.path.getsize(cert) == 0:
            p['client_certificate_path'] = None
    token_file = p['federated_token_file']
    if token_file and not os.path.isfile(token_file):
        raise ValueError("federated_token_file '%s' does not exist" % token_file)
    log = p['exchange_log']
    if log and (os.path.isdir(log) or not os.path.isdir(os.path.dirname(os.path.abspath(log)))):
        raise ValueError("exchange_log '%s' must be a file in an existing directory" % log)

    kinds = [k for k in CREDENTIALS if p[k]]
    if not kinds:
        raise ValueError('No credential given: set one of client_secret, client_certificate_path, federated_token_file '
                         'or managed_identity=true (or the environment variables %s)'
                         % ', '.join(sorted(set(CREDENTIAL_ENV.values()) | set(['AZURE_SECRET']))))
    if len(kinds) > 1:
        raise ValueError('Set exactly one kind of credential, got %s (from task options, module_defaults or the '
                         'environment variables %s)' % (' and '.join(kinds), ', '.join(
                             CREDENTIAL_ENV[k] for k in kinds if k in CREDENTIAL_ENV) or 'none'))
    if kinds[0] in NEEDS_APP_REGISTRATION:
        missing = [k for k in ('tenant_id', 'client_id') if not p[k]]
        if missing:
            raise ValueError('%s required with %s (environment: %s)' % (
                ' and '.join(missing) + (' is' if len(missing) == 1 else ' are'), kinds[0],
                ', '.join({'tenant_id': 'AZURE_TENANT_ID or AZURE_TENANT', 'client_id': 'AZURE_CLIENT_ID'}[k]
                          for k in missing)))
    for name, low in (('timeout', 1), ('max_retries', 0), ('retry_max_delay', 0)):
        if p[name] is not None and p[name] < low:
            raise ValueError('%s must be at least %s, got %s' % (name, low, p[name]))
    conn = dict((k, v) for k, v in p.items() if k != 'token_cache')
    conn['token_cache_path'] = None if p['token_cache'] else False
    return conn


# The option of the modules that resolve names of other objects (doc fragment intune.autopilot.check_mode).
CHECK_MODE_MISSING_ARGSPEC = dict(type='str', choices=['fail', 'warn'], default='fail')


class GraphModule(AnsibleModule):
    """AnsibleModule with the connection options merged in and one lazily built GraphClient."""

    def __init__(self, argument_spec=None, **kwargs):
        spec = copy.deepcopy(GRAPH_ARGSPEC)
        spec.update(argument_spec or {})
        kwargs.setdefault('supports_check_mode', True)
        self._client = None
        super(GraphModule, self).__init__(argument_spec=spec, **kwargs)
        try:
            self._connection = connection_params(self.params)
        except ValueError as exc:
            self.fail_json(msg=str(exc))

    @property
    def client(self):
        """The GraphClient of this run (built on first use; no network until the first request)."""
        if self._client is None:
            if not HAS_MSAL:
                self.fail_json(msg=missing_required_lib('msal'), exception=MSAL_IMPORT_ERROR)
            if not HAS_REQUESTS:
                self.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
            if self._connection['client_certificate_path'] and not HAS_CRYPTOGRAPHY:
                self.fail_json(msg=missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_IMPORT_ERROR)
            self._client = GraphClient(warn=self.warn, error_hint=error_hint, **self._connection)
        return self._client

    def _with_stats(self, kwargs):
        """With INTUNE_GRAPH_STATS set (tests, benchmarks), the result carries the client's request counters."""
        if self._client is not None and os.environ.get('INTUNE_GRAPH_STATS', '').strip():
            stats = dict(self._client.stats)
            stats['by_status'] = dict((str(k), v) for k, v in stats['by_status'].items())
            kwargs['graph_stats'] = stats
        return kwargs

    def note_progress(self, note):
        """Append ``note`` (a dict) as one JSON line to the file INTUNE_GRAPH_PROGRESS_FILE names, when it is set: the
        collection's action plugin for autopilot_device sets it and shows each line while the module waits."""
        path = os.environ.get('INTUNE_GRAPH_PROGRESS_FILE', '').strip()
        if path:
            with open(path, 'a') as handle:
                handle.write(json.dumps(note, sort_keys=True) + '\n')

    def exit_json(self, **kwargs):
        super(GraphModule, self).exit_json(**self._with_stats(kwargs))

    def fail_json(self, msg, **kwargs):
        super(GraphModule, self).fail_json(msg, **self._with_stats(kwargs))

    def run(self, work):
        """The one error edge of the collection: call ``work()`` and end the task with what it returns or raises.

        ``work`` returns the module result as a dict: it is passed to ``exit_json``, after each entry of its
        ``warnings`` list (if any) went through ``warn``. An :class:`EngineError` (bad input, every problem at once, a
        timeout, a Graph error in context) fails the task with its ``msg`` and its ``extra`` keys beside it (``problems``,
        ``status``, ``request_id``, or a whole partial result); a Graph error that escaped ``work`` and anything unexpected
        fail it too (the latter with a traceback). A ``work`` that ends the task itself (``exit_json``) still works, and
        what a ``work`` returns that is not a dict is returned.
        """
        try:
            result = work()
        except EngineError as exc:
            self.fail_json(msg=exc.msg, **exc.extra)
        except GraphError as exc:
            msg = exc.summary if isinstance(exc, GraphAuthError) else 'Failed to talk to Microsoft Graph: %s' % exc.summary
            self.fail_json(msg=msg, **exc.to_result())
        except Exception as exc:  # pylint: disable=broad-except
            self.fail_json(msg='%s: %s' % (type(exc).__name__, exc), exception=traceback.format_exc())
        if not isinstance(result, dict):
            return result
        for warning in result.pop('warnings', None) or []:
            self.warn(warning)
        self.exit_json(**result)


def info_module(exclusive=(), **options):
    """The GraphModule of an ``_info`` module: ``display_name`` (alias ``name``) and ``id``, mutually exclusive with each
    other and with the ``exclusive`` options, beside the module's own ``options``."""
    spec = dict(display_name=dict(type='str', aliases=['name']), id=dict(type='str'))
    spec.update(options)
    return GraphModule(argument_spec=spec, mutually_exclusive=[['display_name', 'id'] + list(exclusive)],
                       supports_check_mode=True)

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The exchange log: every exchange with Graph and the token service of a run, one masked JSON line each.

Internal to this collection; it may change in any release.

It exists so that a first run against a real tenant that disagrees with docs/real-tenant.md can be reported with
evidence: what was sent, what came back, with the ``request-id`` Microsoft support asks for. The file is appended to
by every task of a run (each line is one ``write`` on a file opened with O_APPEND), created with mode 0600.

Masked before anything is written: the values of ``client_secret``, ``client_assertion``, ``access_token``,
``refresh_token``, ``id_token``, ``password`` and ``Authorization`` keys at any depth, the credential's secrets
wherever they appear, and anything shaped like a JWT; ``hardwareIdentifier`` and ``productKey`` values are shortened
to their first characters and their length. Request headers are not logged, except ``client-request-id``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import time

from urllib.parse import urlencode  # controller only (tests/config.yml): Python 3

MASK = '********'
SECRET_KEYS = frozenset(('authorization', 'client_secret', 'client_assertion', 'access_token', 'refresh_token',
                         'id_token', 'password'))
SHORTENED_KEYS = frozenset(('hardwareidentifier', 'productkey'))
PREFIX = 6  # characters of a shortened value that are kept
TEXT_LIMIT = 2000  # characters kept of a body that is not JSON
JWT_RE = re.compile(r'eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*')


def shorten(value):
    return '%s... (%d characters)' % (value[:PREFIX], len(value))


def mask(value, secrets=()):
    """``value`` (JSON-like) with secrets masked and hashes shortened, as the module docstring says."""
    if isinstance(value, dict):
        return dict((k, _masked_item(str(k).lower(), v, secrets)) for k, v in value.items())
    if isinstance(value, list):
        return [mask(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
        return JWT_RE.sub(MASK, value)
    return value


def _masked_item(key, value, secrets):
    if key in SECRET_KEYS and value:
        return MASK
    if key in SHORTENED_KEYS and isinstance(value, str) and value:
        return shorten(value)
    return mask(value, secrets)


def _body(data):
    """A body as JSON where it is JSON (msal hands its form over as a dict), other text cut to TEXT_LIMIT."""
    if data is None or data == b'' or data == '':
        return None
    if isinstance(data, bytes):
        data = data.decode('utf-8', 'replace')
    if isinstance(data, (dict, list)):
        return data
    try:
        return json.loads(data)
    except ValueError:
        return data[:TEXT_LIMIT]


class ExchangeLog(object):
    """Appends one line per exchange to ``path``; ``secrets`` are masked wherever they appear.

    A file that cannot be written is reported once through ``warn`` and the run goes on.
    """

    def __init__(self, path, secrets=(), warn=None):
        self.path = path
        self.secrets = tuple(s for s in secrets if s)
        self._warn = warn or (lambda msg: None)
        self._failed = False

    def record(self, method, url, kwargs, started, response=None, error=None):
        """Log one exchange: ``kwargs`` of ``requests.Session.request``, ``started`` its ``time.time()``."""
        entry = {
            'time': time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(started)) + '.%03dZ' % int(started % 1 * 1000),
            'pid': os.getpid(),
            'method': method.upper(),
            'url': response.url if response is not None else _with_params(url, kwargs.get('params')),
        }
        sent = dict((k.lower(), v) for k, v in (kwargs.get('headers') or {}).items())
        if sent.get('client-request-id'):
            entry['client_request_id'] = sent['client-request-id']
        if response is not None:
            entry['status'] = response.status_code
            entry['request_id'] = response.headers.get('request-id') or response.headers.get('x-ms-request-id')
            if response.headers.get('Retry-After'):
                entry['retry_after'] = response.headers['Retry-After']
        else:
            entry['status'] = None
            entry['error'] = '%s: %s' % (type(error).__name__, error)
        entry['duration_ms'] = int(round((time.time() - started) * 1000))
        entry['request'] = _body(kwargs.get('json') if kwargs.get('json') is not None else kwargs.get('data'))
        entry['response'] = _body(response.content) if response is not None else None
        self._write(json.dumps(mask(entry, self.secrets), ensure_ascii=False) + '\n')

    def _write(self, line):
        if self._failed:
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode('utf-8'))
            finally:
                os.close(fd)
        except OSError as exc:
            self._failed = True
            self._warn('Could not write the exchange log %s: %s' % (self.path, exc))


def _with_params(url, params):
    if not params:
        return url
    return '%s%s%s' % (url, '&' if '?' in url else '?', urlencode(params))

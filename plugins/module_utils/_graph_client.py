# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The only code of the collection that speaks HTTP: requests, paging, $batch, retries, errors.

Internal to this collection (the leading underscore): it may change in any release without notice.
It imports nothing from AnsibleModule and knows no Graph resource: warnings go out through the ``warn`` callback,
the sentence a module adds to an error (the permission to grant after a 403) through ``error_hint``, and tokens
come from ``_graph_auth``, whose requests go through this client's session and retry policy.

Facts it relies on, with their sources (see also docs/connection.md):

* Paging: follow ``@odata.nextLink`` verbatim, re-send headers such as ``ConsistencyLevel`` (concepts/paging.md).
* Errors: ``{"error": {"code", "message", "innerError": {"request-id", "date"}}}`` (concepts/errors.md); Intune puts
  a JSON string with a ``Message`` key into ``error.message`` (the answers quoted in microsoftgraph/
  microsoft-graph-docs-contrib issue 2756 and microsoftgraph/msgraph-sdk-powershell issue 1260).
* Throttling: 429 with ``Retry-After`` in seconds; without it, exponential backoff (concepts/throttling.md).
  503 may carry ``Retry-After`` too (concepts/errors.md).
* JSON batching (concepts/json-batching.md): at most 20 requests, responses may come in any order, each inner
  request is throttled on its own; ``headers`` is "required when the body is specified" and must then hold a
  Content-Type, and for a POST whose target takes no body "you must still specify the headers and body parameters
  where only body can be an empty object". The page's own example sends its DELETE with neither. Graph refuses a
  write without them: 400 "Write request id : ... does not contain Content-Type header or body."
  (microsoftgraph/msgraph-sdk-dotnet issue 2628), for the whole batch (Softeria/ms-365-mcp-server issue 677).
  Every POST, PATCH and PUT in a batch therefore carries a body (``{}`` when it has none) and its Content-Type.
* Token requests: "You're expected to implement your own retry policies when calling MSAL", the token service answers
  429 with ``Retry-After`` when overloaded, and 5xx errors are worth a retry (MicrosoftDocs/azure-docs:
  includes/active-directory-develop-error-handling-retries.md, included by msal-error-handling-python.md). msal for
  Python raises on a 5xx and returns the error object on a 4xx (``_graph_auth`` turns both into a TokenFailure).
  :meth:`GraphClient.access_token` retries 429, 5xx, ``temporarily_unavailable`` and transport errors under the same
  policy as Graph calls, honours Retry-After itself, and empties msal's throttle memory before each retry so that
  the retry reaches the service.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import email.utils
import json as jsonlib
import random
import re
import time
import traceback
import uuid

from urllib.parse import quote, urlencode, urlsplit, urlunsplit  # controller only (tests/config.yml): Python 3

from ansible_collections.intune.autopilot.plugins.module_utils._graph_auth import (
    CLOUDS, TokenFailure, TokenSource, credential_for)
from ansible_collections.intune.autopilot.plugins.module_utils._graph_exchange_log import ExchangeLog

try:
    import requests
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

COLLECTION_VERSION = '0.1.0'
USER_AGENT = 'intune.autopilot/%s' % COLLECTION_VERSION

# Retry policy (docs/connection.md). 429 is retried for every method; the others only where repeating the
# request cannot apply it twice (GET, PUT, PATCH, DELETE; POST only through a probe, see GraphClient.request).
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
REPEATABLE_METHODS = frozenset(('GET', 'PUT', 'PATCH', 'DELETE'))
BODY_METHODS = frozenset(('POST', 'PATCH', 'PUT'))  # the writes that carry a body inside $batch, {} at least
BATCH_MAX = 20


def _repeatable(item):
    """A $batch item that may be sent again after its answer was lost: an idempotent method, or a POST the caller
    declared safe to repeat (``repeatable: True``)."""
    return item['method'].upper() in REPEATABLE_METHODS or bool(item.get('repeatable'))


class GraphError(Exception):
    """One failed Graph (or token) call. ``status`` is None for transport errors."""

    def __init__(self, message, status=None, code=None, request_id=None, date=None, method=None, url=None, error=None,
                 retry_after=None):
        self.message = message
        self.retry_after = retry_after  # seconds, from a Retry-After header; for callers that do not retry (retry_429)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.date = date
        self.method = method
        self.url = url
        self.error = error
        super(GraphError, self).__init__(message)

    def __str__(self):
        return self.summary

    @property
    def summary(self):
        """``<code>: <message>``, the tail of every module error message."""
        return '%s: %s' % (self.code, self.message) if self.code else self.message

    def to_result(self):
        return dict(status=self.status, code=self.code, error=self.error, request_id=self.request_id,
                    method=self.method, url=self.url)

    @classmethod
    def from_parts(cls, status, headers, body, method, url, reason=None, hint=None):
        """Build the error from a Graph answer (a response, or one item of a $batch response).

        ``hint(status, method, url)``, when given, returns a sentence to append to the message (or '').
        """
        headers = dict((k.lower(), v) for k, v in (headers or {}).items())
        error = body.get('error') if isinstance(body, dict) else None
        code = message = None
        inner = {}
        if isinstance(error, dict):
            code = error.get('code')
            message = _readable_message(error.get('message'))
            inner = error.get('innerError') or error.get('innererror') or {}
        elif isinstance(error, str):
            code, message = error, (body.get('error_description') or error)
        if not code:
            code = re.sub(r'[^A-Za-z]', '', reason or '') or 'HTTP%s' % status
        if not message:
            text = body if isinstance(body, str) else (jsonlib.dumps(body) if body else '')
            message = text.strip()[:300] or 'HTTP %s with an empty body' % status
        if hint is not None:
            message += hint(status, method, url)
        request_id = headers.get('request-id') or (inner.get('request-id') if isinstance(inner, dict) else None)
        date = (inner.get('date') if isinstance(inner, dict) else None) or headers.get('date')
        return cls(message, status=status, code=code, request_id=request_id, date=date, method=method,
                   url=_strip_query(url), error=error if isinstance(error, dict) else None,
                   retry_after=parse_retry_after(headers.get('retry-after')))


class GraphAuthError(GraphError):
    """The token could not be obtained. The message is complete on its own (no resource context)."""

    @property
    def summary(self):
        return self.message


def _readable_message(message):
    """Intune wraps its own error object as a JSON string in error.message; return its ``Message``."""
    if isinstance(message, str) and message.lstrip().startswith('{'):
        try:
            inner = jsonlib.loads(message)
        except ValueError:
            return message
        if isinstance(inner, dict) and inner.get('Message'):
            return inner['Message']
    return message


def _strip_query(url):
    if not url:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, '', ''))


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if value is None or str(value).strip() == '':
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


_SessionBase = requests.Session if HAS_REQUESTS else object


class GraphSession(_SessionBase):
    """A requests.Session that passes ``verify=`` and ``timeout=`` on every request, and records each exchange.

    requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override ``Session.verify`` but not a per-request ``verify=``
    (measured; see docs/connection.md, TLS). msal gets this session as its ``http_client``, so the token calls follow
    the same rule and reach the exchange log too.
    """

    def __init__(self, verify=True, timeout=30, exchange_log=None):
        super(GraphSession, self).__init__()
        self._verify = verify
        self._timeout = timeout
        self.exchange_log = exchange_log
        self.headers['User-Agent'] = USER_AGENT

    def request(self, method, url, **kwargs):  # pylint: disable=arguments-differ
        kwargs['verify'] = self._verify
        kwargs.setdefault('timeout', self._timeout)
        started = time.time()
        try:
            response = super(GraphSession, self).request(method, url, **kwargs)
        except Exception as exc:
            if self.exchange_log is not None:
                self.exchange_log.record(method, url, kwargs, started, error=exc)
            raise
        if self.exchange_log is not None:
            self.exchange_log.record(method, url, kwargs, started, response=response)
        # msal does not hand the status and headers of a failed token answer back: keep them for the retry decision.
        self.last_answer = (response.status_code, response.headers.get('Retry-After'))
        return response


class GraphClient:
    """HTTPS, paging, $batch and retries for one module run, with the token of one credential. See the module
    docstring.

    ``credential``: the options of one kind of credential (``client_secret``; ``client_certificate_path`` and
    ``client_certificate_password``; ``federated_token_file``; ``managed_identity`` and
    ``managed_identity_client_id``; see ``_graph_auth.CREDENTIALS``). ``error_hint(status, method, url)`` adds a
    sentence to the message of a Graph error. ``exchange_log``: a file path; every exchange with Graph and the token
    service is appended to it as one masked JSON line (``_graph_exchange_log``).
    """

    def __init__(self, tenant_id=None, client_id=None, cloud='public', authority_url=None, graph_url=None,
                 ca_path=None, timeout=30, max_retries=5, warn=None, token_cache_path=None, sleep=time.sleep,
                 retry_max_delay=60.0, retry_max_total=300.0, backoff_base=2.0, error_hint=None, exchange_log=None,
                 **credential):
        if cloud not in CLOUDS:
            raise ValueError('cloud must be one of %s, got %r' % (', '.join(sorted(CLOUDS)), cloud))
        root = (graph_url or CLOUDS[cloud][1]).rstrip('/')
        self.graph_url = re.sub(r'/(beta|v1\.0)$', '', root)
        self.verify = ca_path or True
        self.timeout = timeout
        self.max_retries = int(max_retries)
        self.retry_max_delay = float(retry_max_delay)
        self.retry_max_total = float(retry_max_total)
        self.backoff_base = float(backoff_base)
        self.error_hint = error_hint
        self._warn = warn or (lambda msg: None)
        self._sleep = sleep
        self._random = random.Random()
        found = credential_for(cloud, authority_url, tenant_id, client_id, **credential)
        log = ExchangeLog(exchange_log, found.secrets, warn=self._warn) if exchange_log else None
        self.session = GraphSession(verify=self.verify, timeout=timeout, exchange_log=log) if HAS_REQUESTS else None
        # token_cache_path: a directory for the cache file (None: the default one), or False for no file.
        self.tokens = TokenSource(found, self.session, token_cache_path, warn=self._warn)
        self.stats = {'requests': 0, 'retries': 0, 'throttled': 0, 'token_requests': 0, 'transport_errors': 0,
                      'by_status': {}}

    # ------------------------------------------------------------------ tokens

    def access_token(self, force_refresh=False):
        """The bearer token (see _graph_auth.TokenSource), fetched under the retry policy. Never logged or returned."""
        if force_refresh:
            self.tokens.forget()
        else:
            token = self.tokens.cached()
            if token:
                return token
        failures = 0
        waited = 0.0
        while True:
            try:
                token, fetched = self.tokens.fetch()
                break
            except TokenFailure as failure:
                err = GraphAuthError(failure.message, code=failure.code, url=failure.url)
                failures += 1
                delay = None
                if failure.transport or failure.status in RETRY_STATUSES or failure.code == 'temporarily_unavailable':
                    delay = self._plan_retry(err, failures, waited, parse_retry_after(failure.retry_after))
                if delay is None:
                    raise err from None
                self._warn('Retrying the token request to %s: %s, attempt %d of %d, waiting %.1f s' % (
                    self.tokens.credential.endpoint, err.code, failures + 1, self.max_retries + 1, delay))
                self.stats['retries'] += 1
                self._sleep(delay)
                waited += delay
                self.tokens.http_cache.clear()
        if fetched:
            self.stats['token_requests'] += 1
        return token

    # ------------------------------------------------------------------ HTTP

    def url(self, path, api='beta', params=None):
        """Absolute URL for a path relative to the API root; absolute URLs (nextLink) are used verbatim."""
        if path.startswith('https://') or path.startswith('http://'):
            url = path
        else:
            url = '%s/%s/%s' % (self.graph_url, api, path.lstrip('/'))
        if params:
            # %20 rather than '+' for spaces, and OData's $ ' ( ) , : kept readable.
            query = urlencode([(k, v) for k, v in params.items() if v is not None], quote_via=quote, safe="$'(),:/@")
            url = '%s%s%s' % (url, '&' if '?' in url else '?', query)
        return url

    def _send(self, method, url, body, headers, retry_attempt=0):
        send_headers = {'Authorization': 'Bearer %s' % self.access_token(), 'client-request-id': str(uuid.uuid4()),
                        'Accept': 'application/json', 'User-Agent': USER_AGENT}
        if retry_attempt:
            # As the Graph SDKs do (microsoftgraph/msgraph-sdk-design middleware/RetryHandler.md); it also lets the
            # emulator's request log count retries.
            send_headers['Retry-Attempt'] = str(retry_attempt)
        data = None
        if body is not None:
            data = jsonlib.dumps(body)
            send_headers['Content-Type'] = 'application/json'
        send_headers.update(headers or {})
        self.stats['requests'] += 1
        try:
            response = self.session.request(method, url, data=data, headers=send_headers)
        except requests.exceptions.RequestException:
            self.stats['transport_errors'] += 1
            raise
        by_status = self.stats['by_status']
        by_status[response.status_code] = by_status.get(response.status_code, 0) + 1
        return response

    @staticmethod
    def _parse(response):
        if response.status_code == 204 or not response.content:
            return None
        try:
            body = response.json()
        except ValueError:
            return response.text
        if isinstance(body, dict) and isinstance(body.get('value'), dict) and \
                not [k for k in body if k != 'value' and not k.startswith('@odata.')]:
            # Intune's Get examples wrap one entity so (api-reference/beta/api/intune-*-get.md); Graph's others do not.
            return body['value']
        return body

    def _error_from(self, response, method, url):
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return GraphError.from_parts(response.status_code, response.headers, body, method, url, response.reason,
                                     hint=self.error_hint)

    def _backoff(self, failures):
        """Exponential backoff with jitter: base * 2^(n-1), capped, then a random point in its upper half."""
        ceiling = min(self.retry_max_delay, self.backoff_base * (2 ** (failures - 1)))
        return round(self._random.uniform(ceiling / 2.0, ceiling), 2)

    def _plan_retry(self, err, failures, waited, retry_after=None):
        """Seconds to wait before the next attempt, or None when the policy says stop."""
        if failures > self.max_retries:
            return None
        if retry_after is not None:
            if retry_after > self.retry_max_delay:
                err.message += ' (Retry-After %.0f s is longer than retry_max_delay %.0f s)' % (
                    retry_after, self.retry_max_delay)
                return None
            delay = retry_after
        else:
            delay = self._backoff(failures)
        if waited + delay > self.retry_max_total:
            return None
        return delay

    def request(self, method, path, api='beta', params=None, json=None, headers=None, probe=None, retry_429=True):
        """One Graph call with the retry policy of docs/connection.md. Returns parsed JSON or None.

        ``probe`` (POST only): after a 5xx or a broken connection the POST may have been applied. Before sending it
        again the client calls ``probe()``; an object it returns is returned as the POST's result, None means "not
        applied" and the POST is sent again. Without a probe a POST is retried only after 429 (rejected, not
        processed) or a connect timeout (never sent). ``probe=lambda: None`` declares a POST safe to repeat.
        ``retry_429=False`` raises the first 429 instead of waiting: for calls whose 429 is a rule of the action
        rather than throttling (the Autopilot sync answers 429 within 10 minutes of the previous sync).
        """
        method = method.upper()
        url = self.url(path, api, params)
        shown = '%s %s' % (method, urlsplit(url).path)
        failures = 0
        waited = 0.0
        refreshed = False
        maybe_applied = False
        while True:
            retry_after = None
            try:
                response = self._send(method, url, json, headers, failures)
            except requests.exceptions.SSLError as exc:
                raise GraphError('%s (set ca_path or REQUESTS_CA_BUNDLE to the CA that signed the server certificate)'
                                 % exc, code='SSLError', method=method, url=_strip_query(url))
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                err = GraphError(str(exc), code=type(exc).__name__, method=method, url=_strip_query(url))
                applied_maybe = not isinstance(exc, requests.exceptions.ConnectTimeout)
                reason = type(exc).__name__
            else:
                if response.status_code < 400:
                    return self._parse(response)
                if response.status_code == 401 and not refreshed:
                    refreshed = True
                    self.access_token(force_refresh=True)
                    continue
                err = self._error_from(response, method, url)
                if method == 'DELETE' and response.status_code == 404 and maybe_applied:
                    return None  # an earlier attempt that failed in transit did delete it
                if response.status_code not in RETRY_STATUSES or (response.status_code == 429 and not retry_429):
                    raise err
                if response.status_code == 429:
                    self.stats['throttled'] += 1
                applied_maybe = response.status_code != 429
                retry_after = parse_retry_after(response.headers.get('Retry-After'))
                reason = '%s %s' % (response.status_code, err.code)
            failures += 1
            maybe_applied = maybe_applied or applied_maybe
            unsafe = method == 'POST' and applied_maybe
            if unsafe and probe is None:
                raise err
            delay = self._plan_retry(err, failures, waited, retry_after)
            if delay is None:
                if unsafe:
                    found = probe()
                    if found is not None:
                        return found
                raise err
            self._warn('Retrying %s: %s, attempt %d of %d, waiting %.1f s%s' % (
                shown, reason, failures + 1, self.max_retries + 1, delay,
                ' (checking first whether it was applied)' if unsafe else ''))
            self.stats['retries'] += 1
            self._sleep(delay)
            waited += delay
            if unsafe:
                found = probe()
                if found is not None:
                    self._warn('%s was applied despite the %s; not sending it again' % (shown, reason))
                    return found

    def get(self, path, api='beta', params=None, headers=None):
        return self.request('GET', path, api=api, params=params, headers=headers)

    def get_or_none(self, path, api='beta', params=None, headers=None):
        try:
            return self.get(path, api=api, params=params, headers=headers)
        except GraphError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, path, api='beta', params=None, headers=None):
        """Every item of a collection, following @odata.nextLink verbatim and re-sending ``headers`` on each page."""
        items = []
        url = path
        while url:
            page = self.request('GET', url, api=api, params=params, headers=headers) or {}
            items.extend(page.get('value') or [])
            url = page.get('@odata.nextLink')
            params = None  # the nextLink already carries every query option
        return items

    def post(self, path, json=None, api='beta', headers=None, probe=None, retry_429=True):
        return self.request('POST', path, api=api, json=json, headers=headers, probe=probe, retry_429=retry_429)

    def patch(self, path, json, api='beta', headers=None):
        return self.request('PATCH', path, api=api, json=json, headers=headers)

    def delete(self, path, api='beta', headers=None, missing_ok=True):
        """True when deleted; False when it was already gone (404) and ``missing_ok``."""
        try:
            self.request('DELETE', path, api=api, headers=headers)
        except GraphError as exc:
            if exc.status == 404 and missing_ok:
                return False
            raise
        return True

    # ------------------------------------------------------------------ $batch

    def _batch_path(self, url, api):
        """Inner batch URLs are relative to the version root (concepts/json-batching.md)."""
        if url.startswith('https://') or url.startswith('http://'):
            prefix = '%s/%s' % (self.graph_url, api)
            if not url.startswith(prefix):
                raise ValueError('batch request URL %s is not under %s' % (url, prefix))
            url = url[len(prefix):]
        return '/' + url.lstrip('/')

    def batch(self, requests_, api='beta'):
        """Run requests through $batch in chunks of 20; answers come back in request order.

        Each item of ``requests_`` is ``{"method", "url", "body"?, "headers"?, "repeatable"?}``; each answer is
        ``{"status", "headers", "body"}``. An item is repeatable when its method is GET, PUT, PATCH or DELETE, or when
        the caller sets ``repeatable: True`` on a POST whose effect does not add up when sent twice (an action that
        sets a value, such as ``assignUserToDevice``). Inner 429/500/502/503/504 of repeatable items are sent again
        (waiting the largest inner Retry-After, or the backoff) while the retry budget lasts; any other inner POST only
        after 429. The ``$batch`` POST itself is sent again after a 5xx or a broken connection only when every item is
        repeatable (the answer may have been lost after the items were applied). Other statuses are returned as they
        are: use ``GraphError.from_parts`` to turn one into an error. A POST, PATCH or PUT without a body is sent with
        ``"body": {}``, and every body with ``Content-Type: application/json`` (see the module docstring).
        """
        results = [None] * len(requests_)
        for start in range(0, len(requests_), BATCH_MAX):
            self._batch_chunk(requests_, list(range(start, min(start + BATCH_MAX, len(requests_)))), results, api)
        return results

    def _batch_chunk(self, requests_, indexes, results, api):
        failures = 0
        waited = 0.0
        pending = indexes
        while pending:
            body = {'requests': []}
            for i in pending:
                item = requests_[i]
                entry = {'id': str(i + 1), 'method': item['method'].upper(), 'url': self._batch_path(item['url'], api)}
                headers = dict(item.get('headers') or {})
                if item.get('body') is not None or entry['method'] in BODY_METHODS:
                    entry['body'] = {} if item.get('body') is None else item['body']
                    if not [h for h in headers if h.lower() == 'content-type']:
                        headers['Content-Type'] = 'application/json'
                if headers:
                    entry['headers'] = headers
                body['requests'].append(entry)
            repeatable = all(_repeatable(requests_[i]) for i in pending)
            answer = self.request('POST', '/$batch', api=api, json=body, probe=(lambda: None) if repeatable else None)
            by_id = dict((str(r.get('id')), r) for r in (answer or {}).get('responses') or [])
            retry, waits, reasons = [], [], set()
            for i in pending:
                item = by_id.get(str(i + 1))
                if item is None:
                    item = {'status': 500, 'headers': {}, 'body': {'error': {
                        'code': 'MissingBatchResponse', 'message': 'The $batch answer had no response with id %d' % (i + 1)}}}
                status = int(item.get('status') or 0)
                headers = item.get('headers') or {}
                results[i] = {'status': status, 'headers': headers, 'body': item.get('body')}
                if status == 429 or (status in RETRY_STATUSES and _repeatable(requests_[i])):
                    retry.append(i)
                    reasons.add(str(status))
                    if status == 429:
                        self.stats['throttled'] += 1
                    after = parse_retry_after(dict((k.lower(), v) for k, v in headers.items()).get('retry-after'))
                    waits.append(after)
            if not retry:
                return
            failures += 1
            known = [w for w in waits if w is not None]
            err = GraphError('inner requests failed', method='POST', url=self.url('/$batch', api))
            delay = self._plan_retry(err, failures, waited, max(known) if known else None)
            if delay is None:
                return  # the last answers stay in results for the caller
            self._warn('Retrying %d of %d requests in POST /%s/$batch: %s, attempt %d of %d, waiting %.1f s' % (
                len(retry), len(pending), api, '/'.join(sorted(reasons)), failures + 1, self.max_retries + 1, delay))
            self.stats['retries'] += 1
            self._sleep(delay)
            waited += delay
            pending = retry

# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared harness for the integration tests: the Graph emulator as a subprocess, its control API,
and the real ``ansible-playbook`` run against it.

Fixtures (defined in ``conftest.py`` next to this file):

``emulator``
    session-scoped :class:`Emulator` started with the default command line. Shared by every test
    of one pytest process (one per xdist worker): tests that need a known tenant call
    ``emulator.reset()`` / ``emulator.seed(...)`` first, or use ``start_emulator``.
``start_emulator``
    factory: ``start_emulator('--throttle', '--import-delay', '0', profile='realistic')`` starts another
    emulator with extra CLI arguments; it is stopped (SIGTERM) when the test ends.

Profiles (tests/graph_emulator/profiles.py): every emulator the harness starts runs on :data:`DEFAULT_PROFILE`
unless ``profile=`` (or a ``--profile`` argument) names another, and the environment variable
``INTUNE_EMULATOR_PROFILE`` replaces that default for a whole run
(``INTUNE_EMULATOR_PROFILE=realistic pytest tests/integration/test_x.py``). ``emulator.reset(profile=...,
**settings)`` gives a test a fresh tenant on either profile, with settings over it; ``emulator.reset()`` goes
back to the profile the emulator started with. ``emulator.profile`` names it.
``run_playbook``
    ``run_playbook(playbook, check=False, diff=False, extra_vars=None, tags=None, env_extra=None,
    inventory=None, verbosity=0, emulator=None)`` -> :class:`PlaybookResult`. Runs the venv's
    ``ansible-playbook`` with the collection from this working tree, against ``emulator`` (default:
    the session emulator).
``collections_path``
    session-scoped directory holding ``ansible_collections/intune/autopilot`` -> the working tree.

Helpers: ``emulator.mark()`` / ``emulator.writes_since(mark)`` (Graph write requests since a mark,
to prove check mode writes nothing), ``emulator.reset()``, ``.seed(objects)``, ``.advance(seconds)``,
``.state()``, ``.requests()``; :func:`assert_no_secret` and :func:`find_jwts` for output checks.

Suite-wide check (conftest.py, after every test): :func:`batch_writes_without_body` over what each emulator the
harness started (:data:`STARTED`) logged during the test; a write inside ``$batch`` without a body and a
Content-Type fails the test that sent it, naming the request (Graph refuses such a batch as a whole; see
tests/graph_emulator/batch.py).

The emulator's command line and ready line are the contract of issue 2, item 6:
``python -m tests.graph_emulator --port 0 --request-log FILE [...]`` prints one JSON line
``{"url", "ca_path", "tenant_id", "client_id", "client_secret", ...}`` and stops on SIGTERM.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
CALLBACK_DIR = Path(__file__).resolve().parent / 'callback_plugins'
WRITE_METHODS = frozenset(('POST', 'PATCH', 'PUT', 'DELETE'))
BODY_METHODS = frozenset(('POST', 'PATCH', 'PUT'))  # the writes Graph refuses inside $batch without a body
GRAPH_PREFIXES = ('/beta/', '/v1.0/', '/beta?', '/v1.0?')
JWT_RE = re.compile(r'eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.')
PLAYBOOK_FQCN_RE = re.compile(r'^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$')
READY_TIMEOUT = 60
# The profile of the emulators the harness starts. best-case until the modules handle the realistic profile's
# delays and refusals; the emulator's own default (python -m tests.graph_emulator) is realistic.
DEFAULT_PROFILE = 'best-case'
PROFILE_ENV = 'INTUNE_EMULATOR_PROFILE'
DEFAULT_INVENTORY = {
    'all': {
        'hosts': {
            'localhost': {
                'ansible_connection': 'local',
                'ansible_python_interpreter': '{{ ansible_playbook_python }}',
            },
        },
    },
}
# Environment variables that would change how the modules authenticate or where they connect; the
# harness removes them from the inherited environment and sets its own.
_SCRUBBED_PREFIXES = ('ANSIBLE_', 'AZURE_', 'INTUNE_', 'MSAL_')
_SCRUBBED = frozenset(('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'SSL_CERT_FILE', 'SSL_CERT_DIR',
                       'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy'))


# Every Emulator start_emulator started in this process, for the suite-wide request-log check (conftest.py).
STARTED = []


class HarnessError(AssertionError):
    """The harness could not do what a test asked (emulator did not start, control call failed...)."""


# --------------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------------

class Emulator:
    """A running emulator subprocess and the ways a test talks to it."""

    def __init__(self, proc, info, workdir, request_log, stderr_path, stdout_path):
        self.proc = proc
        self.info = info
        self.workdir = Path(workdir)
        self.request_log = Path(request_log)
        self.stderr_path = Path(stderr_path)
        self.stdout_path = Path(stdout_path)
        self.url = info['url'].rstrip('/')
        self.ca_path = info['ca_path']
        self.tenant_id = info['tenant_id']
        self.client_id = info['client_id']
        self.client_secret = info['client_secret']
        self.profile = info.get('profile')
        # One token cache per emulator: tokens are only valid at the emulator that issued them.
        self.cache_home = self.workdir / 'xdg-cache'
        self.cache_home.mkdir(exist_ok=True)
        self._http = None
        self._log_offset = 0

    # -- process ----------------------------------------------------------------------------------
    def stop(self, timeout=15):
        """SIGTERM, then wait; SIGKILL only when it does not stop in ``timeout`` seconds."""
        if self._http is not None:
            self._http.close()
            self._http = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise HarnessError('emulator did not stop within %ss of SIGTERM' % timeout)
        return self.proc.returncode

    def stderr(self):
        """What the emulator wrote to stderr so far (for failure messages)."""
        try:
            return self.stderr_path.read_text(errors='replace')
        except OSError:
            return ''

    # -- environment for the collection ---------------------------------------------------------------
    def env(self):
        """The variables that point the collection at this emulator (issue 3, item 2)."""
        return {
            'AZURE_TENANT_ID': self.tenant_id,
            'AZURE_CLIENT_ID': self.client_id,
            'AZURE_CLIENT_SECRET': self.client_secret,
            'AZURE_AUTHORITY_HOST': self.url,
            'INTUNE_GRAPH_URL': self.url,
            'REQUESTS_CA_BUNDLE': self.ca_path,
            'XDG_CACHE_HOME': str(self.cache_home),
        }

    # -- control API --------------------------------------------------------------------------------
    @property
    def http(self):
        if self._http is None:
            self._http = requests.Session()
        return self._http

    def control(self, method, name, payload=None):
        """Call ``/_emulator/<name>``; return the decoded JSON body (or None for an empty body)."""
        url = '%s/_emulator/%s' % (self.url, name)
        # verify= on the request itself: a REQUESTS_CA_BUNDLE in the environment overrides a Session.verify, not
        # a per-request verify (psf/requests src/requests/sessions.py merge_environment_settings; psf/requests
        # issues #3829 and #4726).
        try:
            response = self.http.request(method, url, json=payload, timeout=30, verify=self.ca_path)
        except requests.RequestException as exc:
            raise HarnessError('%s %s failed: %s\nemulator stderr:\n%s' % (method, url, exc, self.stderr()[-3000:]))
        if response.status_code >= 400:
            raise HarnessError('%s %s -> %s: %s' % (method, url, response.status_code, response.text[:2000]))
        if not response.content:
            return None
        return response.json()

    def reset(self, profile=None, **settings):
        """Back to a freshly seeded tenant: on ``profile`` (default: the one the emulator started with), with
        ``settings`` (tenant settings such as ``page_size=5``) over it."""
        if profile is not None:
            settings['profile'] = profile
        return self.control('POST', 'reset', {'settings': settings})

    def seed(self, objects):
        """Add objects to the tenant (the shape the emulator's ``/_emulator/seed`` documents)."""
        return self.control('POST', 'seed', objects)

    def advance(self, seconds):
        """Move emulated time forward (import delays, Retry-After, replication delay)."""
        return self.control('POST', 'advance', {'seconds': seconds})

    def state(self):
        """The whole tenant as JSON."""
        return self.control('GET', 'state')

    def requests(self):
        """The request log as the control API returns it (``GET /_emulator/requests``)."""
        return self.control('GET', 'requests')

    # -- request log ---------------------------------------------------------------------------------
    def log_entries(self):
        """Every entry of the ``--request-log`` file (JSON Lines), oldest first."""
        if not self.request_log.exists():
            return []
        entries = []
        with self.request_log.open() as handle:
            for line in handle:
                line = line.strip()
                if line:
                    entries.append(json.loads(line))
        return entries

    def new_log_entries(self):
        """The entries logged since the previous call (the first call: since the start); reads only the new part
        of the file, so a check after every test costs what that test logged."""
        if not self.request_log.exists():
            return []
        with self.request_log.open('rb') as handle:
            handle.seek(self._log_offset)
            data = handle.read()
        complete = data.rfind(b'\n') + 1
        self._log_offset += complete
        return [json.loads(line) for line in data[:complete].splitlines() if line.strip()]

    def mark(self):
        """A position in the request log; pass it to :meth:`writes_since` / :meth:`requests_since`."""
        return len(self.log_entries())

    def requests_since(self, mark):
        return self.log_entries()[mark:]

    def writes_since(self, mark):
        """Graph write requests (POST/PATCH/PUT/DELETE under /beta or /v1.0) logged since ``mark``.

        The emulator logs each inner request of a ``$batch`` as its own entry (with
        ``batch_request_id``); those count, and the outer ``$batch`` POST then does not. An outer
        ``$batch`` without logged inner entries counts when one of its sub-requests is a write.
        Every write sent counts, whatever its status: "check mode sends no write" means none is sent.
        """
        entries = self.requests_since(mark)
        batches_with_inner = set(entry['batch_request_id'] for entry in entries if entry.get('batch_request_id'))
        return [entry for entry in entries
                if is_graph_write(entry) and not (_is_batch(entry) and entry.get('request_id') in batches_with_inner)]


def _path_of(entry):
    path = entry.get('path') or ''
    if '://' in path:
        path = urllib.parse.urlsplit(path).path
    return path


def _is_batch(entry):
    return _path_of(entry).split('?', 1)[0].rstrip('/').endswith('/$batch')


def is_graph_write(entry):
    """True for a request-log entry that changes the tenant through Graph."""
    method = (entry.get('method') or '').upper()
    path = _path_of(entry)
    if method not in WRITE_METHODS or not path.startswith(GRAPH_PREFIXES):
        return False
    if _is_batch(entry):
        body = entry.get('request_body')
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                return True
        subrequests = (body or {}).get('requests') if isinstance(body, dict) else None
        if not isinstance(subrequests, list):
            return True
        return any((sub.get('method') or '').upper() in WRITE_METHODS for sub in subrequests if isinstance(sub, dict))
    return True


def batch_writes_without_body(entries):
    """One line per POST, PATCH or PUT inside a logged ``$batch`` that lacks a body or a Content-Type header.

    Graph refuses them, and the whole batch with them (microsoftgraph/msgraph-sdk-dotnet issue 2628,
    Softeria/ms-365-mcp-server issue 677 and PR 683; tests/graph_emulator/batch.py). Each line names the
    ``$batch`` request (log ``seq`` and ``request-id``) and the item.
    """
    found = []
    for entry in entries:
        if (entry.get('method') or '').upper() != 'POST' or not _is_batch(entry):
            continue
        body = entry.get('request_body')
        items = body.get('requests') if isinstance(body, dict) else None
        for item in items if isinstance(items, list) else ():
            method = str(item.get('method') or '').upper() if isinstance(item, dict) else ''
            if method not in BODY_METHODS:
                continue
            typed = any(str(key).lower() == 'content-type' for key in (item.get('headers') or {}))
            if item.get('body') is None:
                problem = 'has no body' if typed else 'has no body and no Content-Type'
            elif not typed:
                problem = 'has no Content-Type'
            else:
                continue
            found.append('%s %s (log seq %s, request-id %s) item %s: %s %s %s' % (
                entry['method'], entry.get('path'), entry.get('seq'), entry.get('request_id'), item.get('id'), method,
                item.get('url'), problem))
    return found


def _drain(stream, first_line, sink_path):
    """Read the ready line for the starter, then keep the pipe empty so the emulator never blocks."""
    try:
        first_line.append(stream.readline())
    finally:
        first_line.append(None)
    with open(sink_path, 'a') as sink:
        for line in stream:
            sink.write(line)
            sink.flush()


def start_emulator(*args, workdir=None, python=None, cwd=None, timeout=READY_TIMEOUT, profile=None):
    """Start ``python -m tests.graph_emulator --port 0 --request-log <workdir>/requests.jsonl --profile P *args``.

    ``P`` is ``profile``, else ``$INTUNE_EMULATOR_PROFILE``, else :data:`DEFAULT_PROFILE`; a ``--profile`` among
    ``args`` wins. Returns an :class:`Emulator` once the ready line arrived. The caller stops it with ``.stop()``.
    """
    args = [str(arg) for arg in args]
    if '--profile' not in args:
        args = ['--profile', profile or os.environ.get(PROFILE_ENV) or DEFAULT_PROFILE] + args
    workdir = Path(workdir or tempfile.mkdtemp(prefix='intune-emulator-'))
    workdir.mkdir(parents=True, exist_ok=True)
    request_log = workdir / 'requests.jsonl'
    stderr_path = workdir / 'emulator.stderr'
    stdout_path = workdir / 'emulator.stdout'
    cmd = [python or sys.executable, '-m', 'tests.graph_emulator', '--port', '0',
           '--request-log', str(request_log)] + args
    env = dict((k, v) for k, v in os.environ.items() if k not in _SCRUBBED)
    env['PYTHONUNBUFFERED'] = '1'
    with open(stderr_path, 'w') as stderr:
        proc = subprocess.Popen(cmd, cwd=str(cwd or REPO_ROOT), env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=stderr, text=True)
    first_line = []
    reader = threading.Thread(target=_drain, args=(proc.stdout, first_line, stdout_path), daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while not first_line and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    line = first_line[0] if first_line else None

    def fail(why):
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        raise HarnessError('%s\ncommand: %s\nexit: %s\nstderr:\n%s' % (
            why, ' '.join(cmd), proc.returncode, stderr_path.read_text(errors='replace')[-4000:]))

    if not line:
        fail('emulator printed no ready line within %ss' % timeout if proc.poll() is None else 'emulator exited before its ready line')
    try:
        info = json.loads(line)
    except ValueError:
        fail('emulator ready line is not JSON: %r' % line[:500])
    missing = [key for key in ('url', 'ca_path', 'tenant_id', 'client_id', 'client_secret') if key not in info]
    if missing:
        fail('emulator ready line lacks %s: %r' % (', '.join(missing), line[:500]))
    emulator = Emulator(proc, info, workdir, request_log, stderr_path, stdout_path)
    STARTED.append(emulator)
    return emulator


# --------------------------------------------------------------------------------------------------
# ansible-playbook
# --------------------------------------------------------------------------------------------------

def make_collections_path(base):
    """``<base>/ansible_collections/intune/autopilot`` -> the working tree; returns ``base``.

    A symlink is enough for ansible-playbook (unlike ansible-test), and it always runs the current
    working tree, with no build or install per session.
    """
    base = Path(base)
    target = base / 'ansible_collections' / 'intune'
    target.mkdir(parents=True, exist_ok=True)
    link = target / 'autopilot'
    if not link.exists():
        link.symlink_to(REPO_ROOT, target_is_directory=True)
    return base


def ansible_playbook_command():
    """The ``ansible-playbook`` of the interpreter running the tests (the venv's)."""
    candidate = Path(sys.executable).parent / 'ansible-playbook'
    if candidate.exists():
        return [str(candidate)]
    found = shutil.which('ansible-playbook')
    if not found:
        raise HarnessError('ansible-playbook not found next to %s or on PATH' % sys.executable)
    return [found]


@dataclass
class PlaybookResult:
    """What one ``ansible-playbook`` run did.

    ``tasks`` holds one dict per task result in order: ``play``, ``task`` (name), ``action``,
    ``host``, ``status`` (ok/changed/failed/skipped/unreachable), ``ignored`` and ``result`` (the
    module's return values as the callback saw them). ``stats`` maps host -> ``ok``, ``changed``,
    ``failures``, ``unreachable``, ``skipped``, ``rescued``, ``ignored`` (Ansible's names), plus
    ``failed`` as an alias of ``failures``.
    """

    rc: int
    stdout: str
    stderr: str
    stats: dict
    tasks: list
    command: list = field(default_factory=list)

    @property
    def output(self):
        return self.stdout + self.stderr

    def results(self, name, host=None):
        return [t['result'] for t in self.tasks if t['task'] == name and (host is None or t['host'] == host)]

    def task(self, name, host=None):
        """The result of the one task called ``name`` (fails when there is not exactly one)."""
        found = [t for t in self.tasks if t['task'] == name and (host is None or t['host'] == host)]
        if len(found) != 1:
            raise HarnessError('expected one result for task %r, found %d; tasks: %s\n%s' % (
                name, len(found), [t['task'] for t in self.tasks], self.output[-3000:]))
        return found[0]['result']

    def count(self, key, host='localhost'):
        return self.stats.get(host, {}).get(key, 0)

    @property
    def changed(self):
        return sum(host.get('changed', 0) for host in self.stats.values())

    @property
    def failed(self):
        return sum(host.get('failures', 0) + host.get('unreachable', 0) for host in self.stats.values())

    def assert_ok(self):
        """Fail the test with the playbook output when the run did not succeed."""
        if self.rc != 0 or self.failed:
            raise AssertionError('ansible-playbook failed (rc=%s):\n%s' % (self.rc, self.output[-6000:]))
        return self


def _write_text_or_path(value, workdir, name):
    """Playbook/inventory given as text, dict or path -> a path."""
    if isinstance(value, dict):
        path = workdir / (name + '.json')
        path.write_text(json.dumps(value))
        return path
    if isinstance(value, Path):
        return value.resolve()
    text = str(value)
    if '\n' not in text and not text.lstrip().startswith(('[', '{', '-')):
        return Path(text).resolve()
    path = workdir / name
    path.write_text(str(value))
    return path


def run_playbook(playbook, *, emulator, collections_path, check=False, diff=False, extra_vars=None, tags=None,
                 env_extra=None, inventory=None, verbosity=0, timeout=900, workdir=None):
    """Run the real ``ansible-playbook`` against ``emulator`` and return a :class:`PlaybookResult`.

    ``playbook``: YAML text, a path, or a collection playbook's name (``intune.autopilot.export``). ``inventory``: None (implicit-interpreter localhost, local
    connection), YAML/INI text, a dict, or a path. ``env_extra``: variables to add; a value of None
    removes the variable (e.g. to test a missing tenant id). ``tags``: a string or a list.
    """
    workdir = Path(workdir or tempfile.mkdtemp(prefix='run-', dir=str(emulator.workdir)))
    workdir.mkdir(parents=True, exist_ok=True)
    # A collection playbook by name (intune.autopilot.export) is passed on as ansible-playbook takes it.
    is_fqcn = isinstance(playbook, str) and PLAYBOOK_FQCN_RE.match(playbook)
    playbook_path = playbook if is_fqcn else _write_text_or_path(playbook, workdir, 'playbook.yml')
    inventory_path = _write_text_or_path(DEFAULT_INVENTORY if inventory is None else inventory, workdir, 'inventory')
    results_path = workdir / 'results.jsonl'
    config_path = workdir / 'ansible.cfg'
    config_path.write_text('[defaults]\n')

    env = dict((k, v) for k, v in os.environ.items()
               if not k.startswith(_SCRUBBED_PREFIXES) and k not in _SCRUBBED)
    env.update(emulator.env())
    env.update({
        'ANSIBLE_CONFIG': str(config_path),
        'ANSIBLE_COLLECTIONS_PATH': str(collections_path),
        'ANSIBLE_CALLBACK_PLUGINS': str(CALLBACK_DIR),
        'ANSIBLE_CALLBACKS_ENABLED': 'intune_test_results',
        'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_LOCAL_TEMP': str(workdir / 'ansible-local'),
        'ANSIBLE_HOME': str(workdir / 'ansible-home'),
        'INTUNE_TEST_RESULTS': str(results_path),
        'PYTHONDONTWRITEBYTECODE': '1',
    })
    for key, value in (env_extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)

    cmd = ansible_playbook_command() + ['-i', str(inventory_path), str(playbook_path)]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    if extra_vars:
        cmd += ['-e', json.dumps(extra_vars)]
    if tags:
        cmd += ['--tags', tags if isinstance(tags, str) else ','.join(tags)]
    if verbosity:
        cmd.append('-' + 'v' * verbosity)

    try:
        proc = subprocess.run(cmd, cwd=str(workdir), env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise HarnessError('ansible-playbook did not finish within %ss:\n%s' % (timeout, exc.stdout or ''))

    tasks, stats = [], {}
    if results_path.exists():
        for line in results_path.read_text().splitlines():
            record = json.loads(line)
            if record['type'] == 'task':
                tasks.append(record)
            elif record['type'] == 'stats':
                stats = record['stats']
    for host_stats in stats.values():
        host_stats['failed'] = host_stats.get('failures', 0)
    return PlaybookResult(rc=proc.returncode, stdout=proc.stdout, stderr=proc.stderr, stats=stats, tasks=tasks,
                          command=cmd)


# --------------------------------------------------------------------------------------------------
# Output checks
# --------------------------------------------------------------------------------------------------

def find_jwts(text):
    """Every substring that looks like the start of a JWT (``eyJ<header>.<payload>.``)."""
    return JWT_RE.findall(text or '')


def assert_no_secret(text, secret, what='secret'):
    """Fail when ``secret`` appears in ``text`` as is, URL-encoded or JSON-escaped."""
    assert secret, 'assert_no_secret needs a non-empty secret'
    forms = {secret, urllib.parse.quote(secret, safe=''), urllib.parse.quote_plus(secret), json.dumps(secret)[1:-1]}
    for form in forms:
        if form in (text or ''):
            index = text.index(form)
            raise AssertionError('the %s appears in the output at offset %d: ...%s...' % (
                what, index, text[max(0, index - 80):index].replace(form, '<SECRET>')))


def assert_no_token(text):
    """Fail when anything shaped like a JWT access token appears in ``text``."""
    tokens = find_jwts(text)
    assert not tokens, 'JWT-shaped strings in the output: %s' % [t[:24] + '...' for t in tokens]

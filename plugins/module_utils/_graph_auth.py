# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Token acquisition: one small class per kind of credential, msal underneath, and the token cache file.

Internal to this collection (the leading underscore): it may change in any release without notice.
It knows nothing of Graph resources and nothing of retries: :class:`TokenSource` makes one attempt at a time and
raises :class:`TokenFailure` saying what the token service answered; the HTTP client (``_graph_client``) decides
whether to try again, under the same policy as its Graph calls (docs/connection.md).

Facts it relies on (see also docs/connection.md):

* OAuth 2.0 client credentials with the scope ``<graph resource>/.default`` (MicrosoftDocs/entra-docs:
  docs/identity-platform/v2-oauth2-client-creds-grant-flow.md), through msal's ConfidentialClientApplication; a
  managed identity through msal's ManagedIdentityClient; the clouds' hosts from microsoftgraph/
  microsoft-graph-docs-contrib: concepts/deployments.md.
* A certificate assertion is signed PS256 with ``x5t#S256`` (docs/identity-platform/certificate-credentials.md),
  which msal does from 1.35 on when it gets the certificate; older msal needs the SHA-1 thumbprint (RS256, ``x5t``).
* msal remembers a 429 or 5xx answer of the token service for its Retry-After (5 s without one) and answers an
  immediate second call from that memory (msal throttled_http_client.py); the memory is the ``http_cache`` dict
  given to msal, which :attr:`TokenSource.http_cache` holds so that the client can empty it before a retry.
* Every Ansible task is a new process and msal keeps tokens in memory only: the cache is persisted in a 0600 file
  whose name carries a digest of the credential, so a token fetched with one secret is never used with another.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os
import re
import tempfile
import time
import traceback

from urllib.parse import urlsplit  # controller only (tests/config.yml): Python 3

try:
    import requests
    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False

try:
    import msal
    HAS_MSAL = True
    MSAL_IMPORT_ERROR = None
except ImportError:
    HAS_MSAL = False
    MSAL_IMPORT_ERROR = traceback.format_exc()

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

# cloud -> (login host, Graph host). concepts/deployments.md. The token scope is the Graph host + /.default (the
# resource's app ID URI) and does not follow a graph_url override (the emulator case).
CLOUDS = {
    'public': ('https://login.microsoftonline.com', 'https://graph.microsoft.com'),
    'usgov': ('https://login.microsoftonline.us', 'https://graph.microsoft.us'),
    'usgov_dod': ('https://login.microsoftonline.us', 'https://dod-graph.microsoft.us'),
    'china': ('https://login.chinacloudapi.cn', 'https://microsoftgraph.chinacloudapi.cn'),
}
TOKEN_MIN_LIFETIME = 300  # seconds a cached token must still be valid to be used


def authority_for(cloud, authority_url, tenant_id):
    """The authority URL msal gets. A bare host URL (AZURE_AUTHORITY_HOST style) gets the tenant appended."""
    if not authority_url:
        return '%s/%s' % (CLOUDS[cloud][0], tenant_id)
    if '://' not in authority_url:
        authority_url = 'https://' + authority_url
    parts = urlsplit(authority_url)
    if parts.path.strip('/'):
        return authority_url.rstrip('/')
    return '%s://%s/%s' % (parts.scheme, parts.netloc, tenant_id)


def default_cache_dir():
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'intune.autopilot')


def msal_version():
    return tuple(int(p) for p in re.findall(r'\d+', getattr(msal, '__version__', '0'))[:2])


def load_certificate(path, password=None):
    """Read a PEM (private key + certificate) or PFX/PKCS#12 file.

    Returns ``(private_key_pem, certificate_pem, sha1_thumbprint_hex)``; the key comes back unencrypted, in memory
    only, so msal does not need to handle the password (its support for encrypted keys differs between versions).
    """
    with open(path, 'rb') as f:
        data = f.read()
    pwd = password.encode('utf-8') if password else None
    if b'-----BEGIN' in data:
        key_match = re.search(br'-----BEGIN ([A-Z ]*)PRIVATE KEY-----.+?-----END \1PRIVATE KEY-----', data, re.S)
        cert_match = re.search(br'-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----', data, re.S)
        if not key_match or not cert_match:
            raise ValueError("'%s' must hold both a private key and a certificate in PEM form" % path)
        key = serialization.load_pem_private_key(key_match.group(0), password=pwd)
        cert = x509.load_pem_x509_certificate(cert_match.group(0))
    else:
        key, cert, dummy = pkcs12.load_key_and_certificates(data, pwd)
        if key is None or cert is None:
            raise ValueError("'%s' must hold both a private key and a certificate" % path)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode('ascii')
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode('ascii')
    return key_pem, cert_pem, cert.fingerprint(hashes.SHA1()).hex().upper()  # nosec - x5t is SHA-1 by definition


class TokenFailure(Exception):
    """One token attempt that failed.

    ``message`` is the whole sentence for the user (secrets masked); ``code`` is msal's error or the exception type;
    ``status`` and ``retry_after`` (the header's text) come from the last answer of the token service, when there
    was one; ``transport`` is true when the connection failed or dropped (a TLS verification failure is not).
    """

    def __init__(self, message, code, status=None, retry_after=None, transport=False, url=None):
        super(TokenFailure, self).__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.retry_after = retry_after
        self.transport = transport
        self.url = url


class Credential(object):
    """One kind of credential. ``OPTIONS`` are the connection options it reads; the first one selects it."""

    OPTIONS = ()
    secrets = ()  # values masked in every message and in the exchange log

    def __init__(self, cloud, authority_url, tenant_id, client_id, options):
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.resource = CLOUDS[cloud][1]
        self.options = options

    def mask(self, text):
        for secret in self.secrets:
            text = text.replace(secret, '********')
        return text


class AppCredential(Credential):
    """An app registration: msal's ConfidentialClientApplication, the scope ``<graph resource>/.default``."""

    def __init__(self, cloud, authority_url, tenant_id, client_id, options):
        super(AppCredential, self).__init__(cloud, authority_url, tenant_id, client_id, options)
        self.authority = authority_for(cloud, authority_url, tenant_id)
        self.endpoint = self.authority
        self.instance_discovery = not authority_url  # off for any host but the cloud's own (the emulator)
        self.scope = self.resource + '/.default'

    def who(self):
        return "client '%s' from %s" % (self.client_id, self.authority)

    def cache_key(self):
        """Authority, tenant, client and a one-way digest of the credential; neither goes into the file itself."""
        digest = hashlib.sha256(self.material()).hexdigest()
        return '%s|%s|%s|%s' % (self.authority.lower(), self.tenant_id, self.client_id, digest)

    def build(self, session, cache, http_cache):
        kwargs = dict(client_credential=self.msal_credential(), authority=self.authority, http_client=session,
                      token_cache=cache, http_cache=http_cache)
        if not self.instance_discovery:
            kwargs['instance_discovery'] = False
        return msal.ConfidentialClientApplication(self.client_id, **kwargs)

    def acquire(self, app):
        return app.acquire_token_for_client(scopes=[self.scope])


class ClientSecret(AppCredential):
    OPTIONS = ('client_secret',)

    def __init__(self, *args):
        super(ClientSecret, self).__init__(*args)
        self.secrets = (self.options['client_secret'],)

    def material(self):
        return b'secret|' + self.options['client_secret'].encode('utf-8')

    def msal_credential(self):
        return self.options['client_secret']


class ClientCertificate(AppCredential):
    OPTIONS = ('client_certificate_path', 'client_certificate_password')

    def __init__(self, *args):
        super(ClientCertificate, self).__init__(*args)
        self.path = self.options['client_certificate_path']
        self.secrets = tuple(p for p in (self.options.get('client_certificate_password'),) if p)

    def material(self):
        try:
            with open(self.path, 'rb') as f:
                return b'certificate|' + f.read()
        except (OSError, IOError):
            return b'certificate-path|' + self.path.encode('utf-8')  # the token request will say why

    def msal_credential(self):
        if not HAS_CRYPTOGRAPHY:
            raise ValueError('client_certificate_path needs the Python library cryptography')
        key_pem, cert_pem, thumbprint = load_certificate(self.path, self.options.get('client_certificate_password'))
        credential = {'private_key': key_pem, 'public_certificate': cert_pem}
        if msal_version() < (1, 35):
            credential['thumbprint'] = thumbprint  # older msal cannot derive it from public_certificate
        return credential


class WorkloadIdentity(AppCredential):
    """Workload identity federation: the token of a trusted external issuer, read from a file it rotates."""

    OPTIONS = ('federated_token_file',)

    def material(self):
        return b'federated|' + self.options['federated_token_file'].encode('utf-8')  # the assertion itself rotates

    def msal_credential(self):
        path = self.options['federated_token_file']

        def assertion():
            with open(path, 'r') as f:  # read on each use: the platform rotates the file
                return f.read().strip()
        return {'client_assertion': assertion}


class ManagedIdentity(Credential):
    """The Azure managed identity of the machine: msal's ManagedIdentityClient, the resource without a scope."""

    OPTIONS = ('managed_identity', 'managed_identity_client_id')
    scope = None  # msal keeps no client-credentials entry to look up in the file first
    endpoint = 'the managed identity endpoint'
    authority = None

    def who(self):
        return "managed identity '%s'" % (self.options.get('managed_identity_client_id') or 'system-assigned')

    def cache_key(self):
        return 'managed-identity|%s|%s' % (self.options.get('managed_identity_client_id') or 'system', self.resource)

    def build(self, session, cache, http_cache):
        if not hasattr(msal, 'ManagedIdentityClient'):
            raise ValueError('managed identity needs msal >= 1.29 (found %s)' % msal.__version__)
        client_id = self.options.get('managed_identity_client_id')
        if client_id:
            identity = msal.UserAssignedManagedIdentity(client_id=client_id)
        else:
            identity = msal.SystemAssignedManagedIdentity()
        return msal.ManagedIdentityClient(identity, http_client=session, token_cache=cache, http_cache=http_cache)

    def acquire(self, app):
        return app.acquire_token_for_client(resource=self.resource)


# The selecting option of each kind -> its class, in the order connection errors name them.
CREDENTIALS = dict((cls.OPTIONS[0], cls) for cls in (ClientSecret, ClientCertificate, WorkloadIdentity, ManagedIdentity))
NEEDS_APP_REGISTRATION = tuple(name for name, cls in CREDENTIALS.items() if issubclass(cls, AppCredential))


def credential_for(cloud, authority_url, tenant_id, client_id, **options):
    """The credential whose selecting option is set (the first in :data:`CREDENTIALS` order)."""
    known = set(name for cls in CREDENTIALS.values() for name in cls.OPTIONS)
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError('unknown credential options: %s' % ', '.join(unknown))
    for name, cls in CREDENTIALS.items():
        if options.get(name):
            return cls(cloud, authority_url, tenant_id, client_id, options)
    raise ValueError('no credential given')


class TokenSource(object):
    """The access token of one credential: in memory, else from the cache file shared by a run's tasks, else msal.

    ``cache_dir``: the directory of the cache file (None: :func:`default_cache_dir`), or False for no file.
    ``warn(message)`` reports a cache file that cannot be written.
    """

    def __init__(self, credential, session, cache_dir=None, warn=None):
        self.credential = credential
        self.session = session
        self.cache_file = None
        if cache_dir is not False:
            name = 'token-%s.json' % hashlib.sha256(credential.cache_key().encode('utf-8')).hexdigest()[:32]
            self.cache_file = os.path.join(cache_dir or default_cache_dir(), name)
        self.http_cache = {}
        self._warn = warn or (lambda msg: None)
        self._cache = None
        self._app = None
        self._token = None
        self._expires = 0

    def cached(self):
        """A token valid for more than TOKEN_MIN_LIFETIME from memory or the file, without building the msal app
        (that saves its discovery GET), or None."""
        if self._token and self._expires - time.time() > TOKEN_MIN_LIFETIME:
            return self._token
        self._load()
        if self.credential.scope is None:
            return None
        now = time.time()
        for entry in self._access_tokens(target=[self.credential.scope], query={'client_id': self.credential.client_id}):
            expires = int(entry.get('expires_on') or 0)
            refresh = int(entry.get('refresh_on') or expires)
            if expires - now > TOKEN_MIN_LIFETIME and refresh > now and entry.get('secret'):
                self._token, self._expires = entry['secret'], expires
                return self._token
        return None

    def fetch(self):
        """One token request through msal: ``(token, from_identity_provider)``; raises :class:`TokenFailure`."""
        self._load()
        self.session.last_answer = None
        try:
            if self._app is None:
                self._app = self.credential.build(self.session, self._cache, self.http_cache)
            result = self.credential.acquire(self._app)
        except Exception as exc:  # msal raises ValueError, KeyError, requests and MsalServiceError types
            detail = '%s: %s' % (type(exc).__name__, exc)
            tls = HAS_REQUESTS and isinstance(exc, requests.exceptions.SSLError)
            if tls:
                detail += ' (set ca_path or REQUESTS_CA_BUNDLE to the CA that signed the server certificate)'
            transport = HAS_REQUESTS and not tls and isinstance(exc, (
                requests.exceptions.ConnectionError, requests.exceptions.Timeout, requests.exceptions.ChunkedEncodingError))
            raise self._failure(detail, type(exc).__name__, transport)
        if not (isinstance(result, dict) and result.get('access_token')):
            result = result if isinstance(result, dict) else {}
            code = result.get('error') or 'no_token'
            raise self._failure('%s: %s' % (code, result.get('error_description') or 'no access token returned'), code)
        self._token = result['access_token']
        self._expires = time.time() + int(result.get('expires_in') or 3600)
        self._save()
        return self._token, result.get('token_source', 'identity_provider') == 'identity_provider'

    def forget(self):
        """Drop the current token (after a 401) so that the next one comes from the identity provider."""
        self._token = None
        if self._cache is None:
            return
        for entry in self._access_tokens(query={}):
            self._cache.remove_at(entry)
        self._cache.has_state_changed = True

    def _failure(self, detail, code, transport=False):
        status, retry_after = getattr(self.session, 'last_answer', None) or (None, None)
        message = self.credential.mask('Failed to obtain a token for %s: %s' % (self.credential.who(), detail))
        return TokenFailure(message, code, status, retry_after, transport, self.credential.authority)

    def _access_tokens(self, target=None, query=None):
        kind = msal.TokenCache.CredentialType.ACCESS_TOKEN
        search = getattr(self._cache, 'search', None)  # msal >= 1.32; find() is deprecated there
        return list(search(kind, target=target, query=query) if search else self._cache.find(kind, target=target, query=query))

    def _load(self):
        if self._cache is not None:
            return
        self._cache = msal.SerializableTokenCache()
        if not self.cache_file or not os.path.isfile(self.cache_file):
            return
        try:
            with open(self.cache_file, 'r') as f:
                self._cache.deserialize(f.read())
        except (OSError, IOError, ValueError):
            self._cache = msal.SerializableTokenCache()  # unreadable or corrupt: start empty, rewrite on success

    def _save(self):
        if not self.cache_file or not self._cache.has_state_changed:
            return
        directory = os.path.dirname(self.cache_file)
        try:
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o700)
            fd, tmp = tempfile.mkstemp(prefix='.token-', dir=directory)  # mkstemp creates the file 0600
            try:
                with os.fdopen(fd, 'w') as f:
                    f.write(self._cache.serialize())
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.cache_file)
            except Exception:
                os.unlink(tmp)
                raise
        except (OSError, IOError) as exc:
            self._warn('Could not write the token cache %s: %s' % (self.cache_file, exc))

"""The Entra token service (client-credentials grant) and bearer-token checks for Graph calls.

Sources (MicrosoftDocs/entra-docs unless said otherwise):

* docs/identity-platform/v2-oauth2-client-creds-grant-flow.md - the token request (``client_id``,
  ``scope=https://graph.microsoft.com/.default``, ``client_secret`` in the form or HTTP Basic,
  ``grant_type=client_credentials``), the success body ``{token_type, expires_in, access_token}``
  (``ext_expires_in`` from microsoft-graph-docs-contrib concepts/auth-v2-service.md) and the error body
  ``{error, error_description, error_codes, timestamp, trace_id, correlation_id}``.
* docs/identity-platform/certificate-credentials.md - the client assertion: ``x5t#S256`` (or the older
  ``x5t``) header naming the registered certificate, ``aud`` = the token endpoint, ``iss`` = ``sub`` =
  the client id; PS256 (msal sends RS256 with a SHA-1 ``thumbprint``, PS256 with a ``public_certificate``:
  AzureAD/microsoft-authentication-library-for-python msal/application.py; tests/graph_emulator/tests/test_auth.py runs both).
* docs/identity-platform/reference-error-codes.md and its sample (``invalid_scope`` / AADSTS70011),
  plus the AADSTS table of learn.microsoft.com/azure/developer/java/sdk/troubleshooting-authentication-service-principal
  (7000215 invalid secret, 700016 application not found, 700027 invalid assertion signature,
  700021 assertion issuer vs client_id, 700023 assertion audience). 90002 (tenant not found, error
  ``invalid_request`` / ``invalid_tenant`` on discovery) as Entra answers it in public reports.
* docs/identity-platform/access-token-claims-reference.md - app-only tokens carry ``roles``, ``tid``,
  ``appid``/``azp``, ``oid``, ``iat``/``nbf``/``exp``, ``ver``.
* Graph answers a missing, unknown or expired bearer with 401 ``InvalidAuthenticationToken`` and a
  missing permission with 403 ``Authorization_RequestDenied`` (microsoft-graph-docs-contrib concepts/errors.md).

Issued tokens are HS256 JWTs signed with a per-process emulator key: opaque to clients, cheap to check.
Expiry is judged against the tenant's emulated clock, so ``/_emulator/advance`` can expire them.
"""

import base64
import hmac
import secrets
import threading
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qs, unquote

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from . import certs
from .core import GraphHTTPError

GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_SCOPE = GRAPH_RESOURCE + "/.default"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# Every application permission the collection's modules need (the Permissions table of each operation's page in
# microsoftgraph/microsoft-graph-docs-contrib api-reference, the pages the resource modules cite).
DEFAULT_ROLES = (
    "DeviceManagementServiceConfig.ReadWrite.All",
    "DeviceManagementServiceConfig.Read.All",
    "DeviceManagementApps.Read.All",
    "DeviceManagementRBAC.Read.All",
    "DeviceManagementConfiguration.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "User.Read.All",
    "Device.Read.All",
    "Directory.Read.All",
)


class Application:
    """A registered application (service principal): secret and/or certificate, application permissions."""

    def __init__(self, client_id, display_name, secret=None, cert=None, roles=DEFAULT_ROLES):
        self.client_id = client_id
        self.display_name = display_name
        self.secret = secret
        self.cert = cert  # dict from certs.make_client_cert, or {"cert_pem": ...}
        self.roles = tuple(roles)
        self._public_key = None
        self._x5t = None
        if cert:
            loaded = x509.load_pem_x509_certificate(cert["cert_pem"].encode())
            self._public_key = loaded.public_key()
            self._x5t = certs.thumbprints(loaded.public_bytes(serialization.Encoding.DER))

    def dump(self):
        data = {"client_id": self.client_id, "display_name": self.display_name, "secret": self.secret,
                "roles": list(self.roles)}
        if self.cert:
            data["cert_pem"] = self.cert["cert_pem"]
        return data

    def public(self):
        """What ``/_emulator/apps`` shows: never the secret."""
        return {"client_id": self.client_id, "display_name": self.display_name, "roles": list(self.roles),
                "has_secret": bool(self.secret), "has_certificate": bool(self.cert)}


class Registry:
    """Registered applications and the key that signs access tokens."""

    def __init__(self):
        self.apps = {}
        self.key = secrets.token_bytes(32)
        self._seen = {}
        self._lock = threading.Lock()

    def register(self, client_id=None, display_name="Graph emulator app", secret=None, cert=None, roles=DEFAULT_ROLES):
        app = Application(client_id or str(uuid.uuid4()), display_name, secret, cert, roles)
        self.apps[app.client_id] = app
        return app

    # --- the token endpoint -------------------------------------------------------------------

    def issue(self, app, tenant):
        now = int(tenant.clock.now())
        lifetime = int(tenant.settings.get("token_lifetime", 3599))
        claims = {"aud": GRAPH_RESOURCE, "iss": "https://sts.windows.net/%s/" % tenant.tenant_id,
                  "iat": now, "nbf": now, "exp": now + lifetime, "appid": app.client_id, "azp": app.client_id,
                  "app_displayname": app.display_name, "idtyp": "app", "oid": app.client_id,
                  "roles": list(app.roles), "tid": tenant.tenant_id, "ver": "1.0", "uti": uuid.uuid4().hex}
        token = jwt.encode(claims, self.key, algorithm="HS256", headers={"typ": "JWT"})
        return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}

    # --- Graph calls --------------------------------------------------------------------------

    def authenticate(self, authorization, tenant):
        """The application a ``Bearer`` header belongs to, or a 401 in Graph's words."""
        if not authorization:
            raise GraphHTTPError(401, "InvalidAuthenticationToken", "Access token is empty.")
        scheme, _dummy, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise GraphHTTPError(401, "InvalidAuthenticationToken", "Access token is empty.")
        token = token.strip()
        claims = self._seen.get(token)
        if claims is None:
            try:
                claims = jwt.decode(token, self.key, algorithms=["HS256"], audience=GRAPH_RESOURCE,
                                    options={"verify_exp": False, "verify_nbf": False, "verify_iat": False})
            except jwt.PyJWTError:
                raise GraphHTTPError(401, "InvalidAuthenticationToken",
                                     "IDX14100: JWT is not well formed, there are no dots (.).") if token.count(".") != 2 \
                    else GraphHTTPError(401, "InvalidAuthenticationToken", "Access token validation failure.")
            with self._lock:
                if len(self._seen) > 10000:
                    self._seen.clear()
                self._seen[token] = claims
        if claims["tid"] != tenant.tenant_id:
            raise GraphHTTPError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
        if claims["exp"] <= tenant.clock.now():
            raise GraphHTTPError(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
        app = self.apps.get(claims["appid"])
        if app is None:
            raise GraphHTTPError(401, "InvalidAuthenticationToken", "Access token validation failure.")
        return app


def authorize(app, permissions):
    """403 unless the app holds one of ``permissions`` (any one allows the call, as the docs list them)."""
    if permissions and not any(p in app.roles for p in permissions):
        raise GraphHTTPError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


# --- token-service HTTP handlers (called by app.py) ---------------------------------------------

def known_tenant(tenant, segment):
    segment = segment.lower()
    return segment == tenant.tenant_id.lower() or segment == str(tenant.settings.get("domain", "")).lower()


def entra_error(tenant, status, error, code, message):
    """An Entra error body, as the reference-error-codes sample shows it."""
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = datetime.fromtimestamp(tenant.clock.now(), tz=timezone.utc)
    description = "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s" % (
        code, message, trace, correlation, stamp.strftime("%Y-%m-%d %H:%M:%SZ"))
    return status, {"error": error, "error_description": description, "error_codes": [code],
                    "timestamp": stamp.strftime("%Y-%m-%d %H:%M:%SZ"), "trace_id": trace, "correlation_id": correlation,
                    "error_uri": "https://login.microsoftonline.com/error?code=%d" % code}


def tenant_not_found(tenant, segment, error="invalid_request"):
    return entra_error(tenant, 400, error, 90002,
                       "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into "
                       "the correct cloud. Check with your subscription administrator, this may happen if there are no "
                       "active subscriptions for the tenant." % segment)


def discovery(tenant, base_url, segment):
    """``GET /{tenant}/v2.0/.well-known/openid-configuration``: the keys msal reads (and a few more)."""
    if not known_tenant(tenant, segment):
        return tenant_not_found(tenant, segment, "invalid_tenant")
    root = "%s/%s" % (base_url, tenant.tenant_id)
    return 200, {
        "token_endpoint": root + "/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": root + "/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": root + "/v2.0",
        "request_uri_parameter_supported": False,
        "authorization_endpoint": root + "/oauth2/v2.0/authorize",
        "device_authorization_endpoint": root + "/oauth2/v2.0/devicecode",
        "end_session_endpoint": root + "/oauth2/v2.0/logout",
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid"],
    }


def parse_form(raw):
    form = {}
    for key, values in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items():
        form[key] = values[0]
    return form


def token(registry, tenant, base_url, segment, form, authorization=None):
    """``POST /{tenant}/oauth2/v2.0/token`` for ``grant_type=client_credentials``; returns ``(status, body)``."""
    if not known_tenant(tenant, segment):
        return tenant_not_found(tenant, segment)
    if authorization and authorization.lower().startswith("basic "):
        try:
            user, _dummy, password = base64.b64decode(authorization[6:].strip()).decode().partition(":")
            form.setdefault("client_id", unquote(user))
            form.setdefault("client_secret", unquote(password))
        except (ValueError, UnicodeDecodeError):
            return entra_error(tenant, 401, "invalid_client", 7000215, "Invalid client secret provided.")
    grant = form.get("grant_type")
    if not grant:
        return entra_error(tenant, 400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'grant_type'.")
    if grant != "client_credentials":
        return entra_error(tenant, 400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'." % grant)
    client_id = form.get("client_id", "")
    app = registry.apps.get(client_id)
    if app is None:
        return entra_error(tenant, 400, "unauthorized_client", 700016,
                           "Application with identifier '%s' was not found in the directory '%s'. This can happen if the "
                           "application has not been installed by the administrator of the tenant or consented to by any "
                           "user in the tenant. You may have sent your authentication request to the wrong tenant."
                           % (client_id, segment))
    scopes = form.get("scope", "").split()
    if scopes != [GRAPH_SCOPE]:
        shown = " ".join(s for s in scopes if s not in ("openid", "profile", "offline_access")) or form.get("scope", "")
        return entra_error(tenant, 400, "invalid_scope", 70011,
                           "The provided value for the input parameter 'scope' is not valid. The scope %s is not valid." % shown)
    if "client_secret" in form:
        if not app.secret or not hmac.compare_digest(form["client_secret"].encode(), app.secret.encode()):
            return entra_error(tenant, 401, "invalid_client", 7000215,
                               "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                               "secret value, not the client secret ID, for a secret added to app '%s'." % client_id)
        return 200, registry.issue(app, tenant)
    if "client_assertion" in form:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return entra_error(tenant, 400, "invalid_request", 50027, "Invalid JWT token. client_assertion_type is not supported.")
        failure = _check_assertion(app, form["client_assertion"], base_url, segment, tenant)
        if failure:
            return entra_error(tenant, 401, "invalid_client", *failure)
        return 200, registry.issue(app, tenant)
    return entra_error(tenant, 401, "invalid_client", 7000218,
                       "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")


def _check_assertion(app, assertion, base_url, segment, tenant):
    """``None`` when the assertion is valid, else ``(AADSTS code, message)``."""
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        return 50027, "JWT token is invalid or malformed."
    used = header.get("x5t#S256") or header.get("x5t") or ""
    normalised = str(used).rstrip("=").replace("+", "-").replace("/", "_")
    if not app.cert or normalised not in app._x5t:
        return 700027, ("Client assertion contains an invalid signature. [Reason - The key was not found., "
                        "Thumbprint of key used by client: '%s']" % used)
    audiences = ["%s/%s/oauth2/v2.0/token" % (base_url, segment), "%s/%s/oauth2/v2.0/token" % (base_url, tenant.tenant_id)]
    try:
        claims = jwt.decode(assertion, app._public_key, algorithms=["RS256", "PS256"], audience=audiences,
                            options={"require": ["exp", "aud", "iss", "sub"]}, leeway=300)
    except jwt.InvalidAudienceError:
        return 700023, "Client assertion audience claim does not match Realm issuer."
    except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError):
        return 700024, "Client assertion is not within its valid time range."
    except jwt.InvalidSignatureError:
        return 700027, "Client assertion contains an invalid signature. [Reason - The key was not found.]"
    except jwt.PyJWTError as exc:
        return 50027, "JWT token is invalid or malformed. (%s)" % exc
    if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
        return 700021, "Client assertion application identifier doesn't match 'client_id' parameter."
    return None

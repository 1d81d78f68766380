"""Token service and bearer checks, with the real msal where a client would use it."""

import os

import msal
import pytest
import requests

from .conftest import SCOPE, PinnedSession


def _msal_app(emulator, client_id, credential, **kwargs):
    return msal.ConfidentialClientApplication(client_id, client_credential=credential, authority=emulator.authority,
                                              instance_discovery=False, **kwargs)


def test_token_by_secret_with_msal(emulator):
    app = _msal_app(emulator, emulator.client_id, emulator.client_secret, http_client=PinnedSession(emulator.ca_path))
    result = app.acquire_token_for_client(scopes=[SCOPE])
    assert result["token_type"] == "Bearer"
    assert result["expires_in"] > 0
    graph = requests.get(emulator.url + "/v1.0/users", headers={"Authorization": "Bearer " + result["access_token"]},
                         verify=emulator.ca_path)
    assert graph.status_code == 200
    assert len(graph.json()["value"]) >= 3


def _cert_parts(path):
    pem = open(path).read()
    marker = "-----END PRIVATE KEY-----"
    key, cert = pem.split(marker)
    return key + marker + "\n", cert.strip() + "\n"


def test_token_by_certificate_ps256_with_msal(emulator):
    key, cert = _cert_parts(emulator.cert_path)
    app = _msal_app(emulator, emulator.cert_client_id, {"private_key": key, "public_certificate": cert},
                    http_client=PinnedSession(emulator.ca_path))
    result = app.acquire_token_for_client(scopes=[SCOPE])
    assert "access_token" in result, result


def test_token_by_certificate_rs256_thumbprint_with_msal(emulator):
    key, _dummy = _cert_parts(emulator.cert_path)
    app = _msal_app(emulator, emulator.cert_client_id, {"private_key": key, "thumbprint": emulator.cert_thumbprint},
                    http_client=PinnedSession(emulator.ca_path))
    result = app.acquire_token_for_client(scopes=[SCOPE])
    assert "access_token" in result, result


def test_certificate_of_another_app_is_refused(emulator, tmp_path):
    from tests.graph_emulator import certs
    other = certs.make_client_cert(str(tmp_path / "other.pem"), "other")
    app = _msal_app(emulator, emulator.cert_client_id, {"private_key": other["key_pem"], "public_certificate": other["cert_pem"]},
                    http_client=PinnedSession(emulator.ca_path))
    result = app.acquire_token_for_client(scopes=[SCOPE])
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [700027]


def test_requests_ca_bundle_trap(emulator, monkeypatch):
    """msal's verify= only sets Session.verify, which REQUESTS_CA_BUNDLE overrides; a session that passes
    verify= on every request is not affected (psf/requests src/requests/sessions.py merge_environment_settings;
    psf/requests issues #3829 and #4726)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt" if os.path.exists(
        "/etc/ssl/certs/ca-certificates.crt") else requests.certs.where())
    with pytest.raises(requests.exceptions.SSLError):
        _msal_app(emulator, emulator.client_id, emulator.client_secret, verify=emulator.ca_path)
    app = _msal_app(emulator, emulator.client_id, emulator.client_secret, http_client=PinnedSession(emulator.ca_path))
    assert "access_token" in app.acquire_token_for_client(scopes=[SCOPE])


def _token_post(emulator, tenant=None, **form):
    data = {"grant_type": "client_credentials", "client_id": emulator.client_id,
            "client_secret": emulator.client_secret, "scope": SCOPE}
    data.update(form)
    return requests.post("%s/%s/oauth2/v2.0/token" % (emulator.url, tenant or emulator.tenant_id), data=data,
                         verify=emulator.ca_path)


def _assert_entra_error(answer, status, error, code):
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith("AADSTS%d: " % code)
    for key in ("timestamp", "trace_id", "correlation_id"):
        assert body[key]


def test_wrong_secret(emulator):
    _assert_entra_error(_token_post(emulator, client_secret="nope"), 401, "invalid_client", 7000215)


def test_unknown_client(emulator):
    _assert_entra_error(_token_post(emulator, client_id="11111111-1111-1111-1111-111111111111"), 400,
                        "unauthorized_client", 700016)


def test_unknown_tenant(emulator):
    _assert_entra_error(_token_post(emulator, tenant="22222222-2222-2222-2222-222222222222"), 400, "invalid_request", 90002)
    discovery = requests.get("%s/nope.example/v2.0/.well-known/openid-configuration" % emulator.url, verify=emulator.ca_path)
    assert discovery.status_code == 400
    assert discovery.json()["error_codes"] == [90002]


def test_invalid_scope(emulator):
    _assert_entra_error(_token_post(emulator, scope="https://graph.microsoft.com/User.Read"), 400, "invalid_scope", 70011)


def test_domain_name_is_a_tenant_alias(emulator):
    answer = _token_post(emulator, tenant="contoso.onmicrosoft.com")
    assert answer.status_code == 200
    assert set(answer.json()) == {"token_type", "expires_in", "ext_expires_in", "access_token"}


def test_graph_without_token_is_401(emulator):
    answer = requests.get(emulator.url + "/v1.0/groups", verify=emulator.ca_path)
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["code"] == "InvalidAuthenticationToken"
    assert error["innerError"]["request-id"] == answer.headers["request-id"]


def test_graph_with_unknown_token_is_401(make_graph):
    answer = make_graph(token="eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln").get("/groups")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_expired_token_is_401(emulator, graph, control):
    assert graph.get("/groups").status_code == 200
    control("POST", "advance", {"seconds": 3600})
    answer = graph.get("/groups")
    assert answer.status_code == 401
    assert "expired" in answer.json()["error"]["message"]


def test_missing_permission_is_403(emulator, control, make_graph):
    reader = control("POST", "apps", {"roles": ["User.Read.All"]})
    client = make_graph(client_id=reader["client_id"], secret=reader["secret"])
    assert client.get("/users").status_code == 200
    answer = client.post("/groups", json={"displayName": "x", "mailEnabled": False, "mailNickname": "x",
                                          "securityEnabled": True})
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "Authorization_RequestDenied"
    assert not [g for g in emulator.tenant.set("groups").values() if g["displayName"] == "x"]


def test_token_endpoint_scripted_faults(emulator, control):
    """Scripted faults also reach the token endpoint. A 429 is Entra's for client credentials: the text "Too Many
    Requests" with Retry-After, which msal cannot parse as JSON and raises on; msal raises on 5xx too
    (AzureAD/microsoft-authentication-library-for-python msal/oauth2cli/oauth2.py ``_obtain_token``); msal then
    answers a failed token request from its own cache for a while, hence a new app for each step
    (msal/throttled_http_client.py)."""
    control("POST", "faults", {"rules": [{"path": "*/oauth2/v2.0/token", "fault": "429", "retry_after": 1},
                                         {"path": "*/oauth2/v2.0/token", "fault": "503"}]})
    app = _msal_app(emulator, emulator.client_id, emulator.client_secret, http_client=PinnedSession(emulator.ca_path))
    with pytest.raises(ValueError):
        app.acquire_token_for_client(scopes=[SCOPE])
    throttled = [r for r in control("GET", "requests")["requests"] if r["status"] == 429][-1]
    assert throttled["response_body"] == "Too Many Requests"
    fresh = _msal_app(emulator, emulator.client_id, emulator.client_secret, http_client=PinnedSession(emulator.ca_path))
    with pytest.raises(msal.exceptions.MsalServiceError):
        fresh.acquire_token_for_client(scopes=[SCOPE])
    assert control("GET", "faults")["injected"] == {"429": 1, "503": 1}
    again = _msal_app(emulator, emulator.client_id, emulator.client_secret, http_client=PinnedSession(emulator.ca_path))
    assert "access_token" in again.acquire_token_for_client(scopes=[SCOPE])

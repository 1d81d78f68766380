"""The pipeline: headers on every answer, unknown routes, methods, content type, HTTP Basic client auth."""

import base64

import requests

from .conftest import SCOPE


def test_unknown_segment_is_400_and_wrong_method_405(graph):
    unknown = graph.get("/nothingHere")
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "BadRequest"
    wrong = graph.request("PUT", "/groups")
    assert wrong.status_code == 405
    assert set(wrong.json()["error"]["innerError"]) == {"date", "request-id", "client-request-id"}


def test_request_ids_and_content_type(graph, emulator):
    answer = graph.get("/users", headers={"client-request-id": "my-correlation"})
    assert answer.headers["client-request-id"] == "my-correlation"
    assert len(answer.headers["request-id"]) == 36
    assert answer.headers["Content-Type"].startswith("application/json;odata.metadata=minimal")
    for other in (requests.get(emulator.url + "/_emulator/settings", verify=emulator.ca_path),
                  requests.get("%s/%s/v2.0/.well-known/openid-configuration" % (emulator.url, emulator.tenant_id),
                               verify=emulator.ca_path)):
        assert other.status_code == 200 and "request-id" in other.headers


def test_discovery_document_points_at_the_emulator(emulator):
    doc = requests.get("%s/%s/v2.0/.well-known/openid-configuration" % (emulator.url, emulator.tenant_id),
                       verify=emulator.ca_path).json()
    assert doc["token_endpoint"] == "%s/%s/oauth2/v2.0/token" % (emulator.url, emulator.tenant_id)
    assert doc["authorization_endpoint"].startswith(emulator.url)


def test_http_basic_client_authentication(emulator):
    credentials = base64.b64encode(("%s:%s" % (emulator.client_id, emulator.client_secret)).encode()).decode()
    answer = requests.post("%s/%s/oauth2/v2.0/token" % (emulator.url, emulator.tenant_id), verify=emulator.ca_path,
                           headers={"Authorization": "Basic " + credentials},
                           data={"grant_type": "client_credentials", "scope": SCOPE})
    assert answer.status_code == 200 and answer.json()["token_type"] == "Bearer"


def test_keep_alive_connection_is_reused(graph):
    for _dummy in range(5):
        assert graph.get("/users").status_code == 200
    pool = graph.session.get_adapter("https://").poolmanager.pools
    assert sum(p.num_connections for p in pool._container.values()) == 1

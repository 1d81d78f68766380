"""Fixtures for the emulator's own tests (and the Intune resource tests that reuse them).

Fixtures:

``emulator_server``  session-wide :class:`tests.graph_emulator.Emulator` on the best-case profile (started once,
                     in-process thread): most tests check one behaviour at a time, without the service's delays
``emulator``         the same emulator reset to a fresh seeded tenant before each test (faults, throttle
                     windows and the in-memory request log cleared); use ``emulator.tenant`` to check state;
                     ``emulator.app.reset({"profile": "realistic"})`` switches the test to the realistic profile
``graph``            a :class:`GraphClient` for v1.0 with a fresh token of the default app
``graph_beta``       the same for beta
``make_graph``       factory: ``make_graph(version="beta", token=None, client_id=None, secret=None)``
``control``          ``control(method, path, json=None)`` -> parsed JSON of ``/_emulator/<path>``
"""

import pytest
import requests

from tests.graph_emulator import Emulator

SCOPE = "https://graph.microsoft.com/.default"


class PinnedSession(requests.Session):
    """Passes ``verify=`` on every request, so REQUESTS_CA_BUNDLE cannot override the pinned CA."""

    def __init__(self, ca_path, timeout=30):
        super().__init__()
        self.ca_path = ca_path
        self.timeout = timeout

    def request(self, method, url, **kwargs):
        kwargs.setdefault("verify", self.ca_path)
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, **kwargs)


def fetch_token(emulator, session, client_id=None, secret=None):
    answer = session.post("%s/%s/oauth2/v2.0/token" % (emulator.url, emulator.tenant_id),
                          data={"grant_type": "client_credentials", "client_id": client_id or emulator.client_id,
                                "client_secret": secret or emulator.client_secret, "scope": SCOPE})
    answer.raise_for_status()
    return answer.json()["access_token"]


class GraphClient:
    """Thin helper: ``graph.get("/groups", params=...)`` -> ``requests.Response`` against one API version."""

    def __init__(self, emulator, version="v1.0", token=None):
        self.emulator = emulator
        self.version = version
        self.session = PinnedSession(emulator.ca_path)
        self.token = token if token is not None else fetch_token(emulator, self.session)

    def url(self, path):
        if path.startswith("https://"):
            return path
        return "%s/%s/%s" % (self.emulator.url, self.version, path.lstrip("/"))

    def request(self, method, path, headers=None, **kwargs):
        merged = {"Authorization": "Bearer " + self.token} if self.token else {}
        merged.update(headers or {})
        return self.session.request(method, self.url(path), headers=merged, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def get_all(self, path, **kwargs):
        """Follow ``@odata.nextLink`` (re-sending the headers) and return every item."""
        items, url = [], path
        while url:
            answer = self.get(url, **kwargs)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            items.extend(body["value"])
            url = body.get("@odata.nextLink")
            kwargs.pop("params", None)
        return items


@pytest.fixture(scope="session")
def emulator_server():
    with Emulator(profile="best-case") as emu:
        yield emu


@pytest.fixture
def emulator(emulator_server):
    emulator_server.app.reset()
    return emulator_server


@pytest.fixture
def make_graph(emulator):
    def make(version="v1.0", token=None, client_id=None, secret=None):
        client = GraphClient(emulator, version, token="" if client_id else token)
        if client_id:
            client.token = fetch_token(emulator, client.session, client_id, secret)
        return client
    return make


@pytest.fixture
def graph(make_graph):
    return make_graph("v1.0")


@pytest.fixture
def graph_beta(make_graph):
    return make_graph("beta")


@pytest.fixture
def control(emulator):
    session = PinnedSession(emulator.ca_path)

    def call(method, path, json=None, **kwargs):
        answer = session.request(method, "%s/_emulator/%s" % (emulator.url, path.lstrip("/")), json=json, **kwargs)
        assert answer.status_code == 200, answer.text
        return answer.json()
    return call

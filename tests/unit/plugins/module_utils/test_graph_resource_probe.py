# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The create probe under replication delay (issue 9): a create whose answer was lost is looked for until
``probe_timeout`` passes, so a directory that lists the new object late does not get a second one."""

import copy

from ansible_collections.intune.autopilot.plugins.module_utils import _graph_resource as engine
from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import Context, GraphResource, Prop, ensure


class LaggingDirectory(object):
    """POST applies the create, then loses the answer (a 500 after the write) and calls the probe the way the
    client does; the new object stays out of lists for ``lag`` list calls (replication delay)."""

    graph_url = "https://graph.example"

    def __init__(self, lag, applied=True):
        self.items = {}
        self.hidden = {}
        self.lag = lag
        self.applied = applied
        self.posts = 0

    def list(self, path, api="beta", params=None, headers=None):
        for obj_id in list(self.hidden):
            self.hidden[obj_id] -= 1
            if self.hidden[obj_id] < 0:
                del self.hidden[obj_id]
        return [copy.deepcopy(i) for k, i in self.items.items() if k not in self.hidden]

    def get(self, path, api="beta", params=None, headers=None):
        return copy.deepcopy(self.items[path.rsplit("/", 1)[-1]])

    def post(self, path, json=None, api="beta", headers=None, probe=None):
        self.posts += 1
        obj = dict(json, id="id-%d" % self.posts)
        if self.applied or self.posts > 1:
            self.items[obj["id"]] = obj
            self.hidden[obj["id"]] = self.lag
        if self.posts == 1:
            found = probe()  # the client after the 500: was it applied?
            if found is not None:
                return found
            return self.post(path, json=json, api=api, headers=headers, probe=probe)
        return copy.deepcopy(obj)


class Module(object):
    def __init__(self, client, timeout):
        self.client = client
        self.params = dict(display_name="Autopilot devices", id=None, state="present", description="d",
                           wait_timeout=timeout)
        self.check_mode = False


def fake_time(monkeypatch):
    """wait_for's sleep and clock (its defaults) replaced by an emulated clock that sleeping moves."""
    slept, now = [], [1000.0]

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds
    defaults = list(engine.wait_for.__defaults__)
    defaults[2:4] = [sleep, lambda: now[0]]  # (interval, max_interval, sleep, clock, deadline, on_poll)
    monkeypatch.setattr(engine.wait_for, "__defaults__", tuple(defaults))
    return slept


def run(client, timeout, monkeypatch):
    slept = fake_time(monkeypatch)
    resource = GraphResource(name="group", path="/groups", props=[Prop("description", "description")],
                             probe_timeout=lambda ctx: ctx.params["wait_timeout"])
    return ensure(Context(Module(client, timeout), resource)), slept


def test_probe_waits_out_replication_instead_of_creating_twice(monkeypatch):
    client = LaggingDirectory(lag=3)
    result, slept = run(client, 60, monkeypatch)
    assert client.posts == 1 and len(client.items) == 1
    assert result["group"]["id"] == "id-1"
    assert slept, "the probe looked again after a pause"


def test_probe_gives_up_after_probe_timeout_and_creates_once(monkeypatch):
    client = LaggingDirectory(lag=0, applied=False)
    result, slept = run(client, 3, monkeypatch)
    assert client.posts == 2 and list(client.items) == ["id-2"]
    assert result["group"]["id"] == "id-2"
    assert sum(slept) <= 3


def test_probe_timeout_zero_looks_once(monkeypatch):
    client = LaggingDirectory(lag=3)
    resource = GraphResource(name="thing", path="/things", props=[Prop("description", "description")])
    fake_time(monkeypatch)
    ensure(Context(Module(client, 60), resource))
    assert client.posts == 2, "without probe_timeout one empty look means not applied (Intune stores list at once)"

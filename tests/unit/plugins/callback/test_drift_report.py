# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift_report callback and its Markdown and HTML pages, without a playbook run."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import atexit
import importlib
import json
import os

import pytest
import yaml

from ansible.module_utils import _internal

from ansible_collections.intune.autopilot.plugins.plugin_utils import _drift_render as render
from ansible_collections.intune.autopilot.plugins.plugin_utils import _drift_report as model

PROFILE = {"changed": True, "profile": {"displayName": "Lyon <profile> | A&B"},
           "diff": {"before": {"locale": "fr-BE", "description": "x|y\nz"}, "after": {"locale": "fr-FR", "description": "x|y\nz`"}},
           "invocation": {"module_args": {"display_name": "Lyon <profile> | A&B"}}}


def report(check_mode=True, status="ok", records=None):
    records = records if records is not None else [
        {"host": "lyon", "task": "Profile", "action": "intune.autopilot.autopilot_profile", "status": "ok", "result": PROFILE},
        {"host": "berlin", "task": "ESP", "action": "intune.autopilot.intune_esp", "status": "ok", "run_once": True,
         "result": {"changed": True, "diff": {"before": {}, "after": {"displayName": "E", "priority": 1}},
                    "invocation": {"module_args": {"display_name": "E"}}}},
        {"host": "berlin", "task": "Devices", "action": "intune.autopilot.autopilot_device", "status": "ok",
         "result": {"changed": True, "devices": [{"serial_number": "S%d" % i, "action": "imported"} for i in range(3)]
                    + [{"serial_number": "U1", "action": "updated", "changes": {"group_tag": {"before": "", "after": "BER"}}}],
                    "diff": {"before": {"devices": {}}, "after": {"devices": {"S0": {"group_tag": "BER"}}}}}},
    ]
    return model.build(records, check_mode=check_mode, status=status, playbook="site.yml", started="t0", finished="t1")


def test_sections_put_the_tenant_wide_objects_first_then_the_hosts():
    parts = render.sections(report())
    assert [(p["title"], p["host"], len(p["objects"]), len(p["devices"])) for p in parts] == [
        ("Tenant-wide", "berlin", 1, 0), ("berlin", "berlin", 0, 4), ("lyon", "lyon", 1, 0)]
    assert render.device_counts(parts[1]["devices"], True) == "3 to import, 1 to update"
    assert render.device_counts(parts[1]["devices"], False) == "3 imported, 1 updated"


def test_headlines_say_what_the_run_was():
    assert render.headline(report()) == "Drift: 6 changes would be made"
    assert render.headline(report(check_mode=False)) == "6 changes made"
    assert render.headline(report(records=[])) == "No drift: the tenant matches the inventory"
    assert render.headline(report(check_mode=False, records=[])) == "Nothing changed"
    assert render.status_text(report(status="failed")).startswith("The run failed.")
    assert render.status_text(report(status="interrupted")).startswith("The run ended early")
    assert render.status_text(report()) is None


def test_markdown_cells_keep_their_table_and_values():
    text = render.to_markdown(report())
    assert "| description | `x\\|y z` | `` x\\|y z` `` |" in text
    assert "| locale | `fr-BE` | `fr-FR` |" in text
    assert "### would update autopilot_profile `Lyon <profile> | A&B`" in text
    assert "### Devices: 3 to import, 1 to update" in text
    assert "| S0 | would create | group_tag | `(not set)` | `BER` |" in text
    assert "| S1 | would create | - |  |  |" in text
    assert "## Tenant-wide (tasks run once per play, by berlin)" in text
    assert "> **The run failed." in render.to_markdown(report(status="failed"))


def test_html_escapes_every_value_and_loads_nothing():
    page = render.to_html(report())
    assert "Lyon &lt;profile&gt; | A&amp;B" in page and "<profile>" not in page
    assert '<td class="before"><pre>fr-BE</pre></td><td class="after"><pre>fr-FR</pre></td>' in page
    assert "<summary>Devices: 3 to import, 1 to update</summary>" in page
    assert "<script" not in page and "http" not in page.replace('name="viewport"', "")
    assert page.startswith("<!DOCTYPE html>")


def test_an_empty_report_says_there_is_nothing_to_report():
    assert "Nothing to report" in render.to_markdown(report(records=[]))
    assert "Nothing to report" in render.to_html(report(records=[]))


class Named(object):
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class Task(Named):
    def __init__(self, name, action, run_once=False, args=None):
        super(Task, self).__init__(name)
        self.action = action
        self.resolved_action = action
        self.run_once = run_once
        self.args = args or {}


class Result(object):
    def __init__(self, host, task, result):
        self.host = Named(host)
        self.task = task
        self.result = result


class Stats(object):
    def __init__(self, failures):
        self.processed = dict((host, 1) for host in failures)
        self.failures = failures

    def summarize(self, host):
        return {"failures": self.failures[host], "unreachable": 0}


class Playbook(object):
    _file_name = "/srv/project/playbooks/user_driven_join.yml"


@pytest.fixture(scope="module")
def controller():
    """Ansible's controller modules and the callback, imported here rather than when the tests are collected:
    importing them marks the process as Ansible's controller (``ansible.module_utils._internal.is_controller``),
    which changes how module code records warnings, for the module tests that run later in the same process.
    The mark is put back afterwards."""
    was = _internal.is_controller
    yield dict((name.rsplit(".", 1)[-1], importlib.import_module(name)) for name in (
        "ansible.constants", "ansible.context", "ansible_collections.intune.autopilot.plugins.callback.drift_report"))
    _internal.is_controller = was


@pytest.fixture
def callback(controller, tmp_path, monkeypatch):
    """The plugin with its options from its DOCUMENTATION (as the plugin loader sets them), the directory from
    INTUNE_DRIFT_REPORT_DIR."""
    name = "intune.autopilot.drift_report"
    drift_report = controller["drift_report"]
    controller["constants"].config.initialize_plugin_configuration_definitions(
        "callback", name, yaml.safe_load(drift_report.DOCUMENTATION)["options"])
    monkeypatch.setattr(controller["context"], "CLIARGS", {"check": True})
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "the-client-secret-value")
    monkeypatch.setenv("INTUNE_DRIFT_REPORT_DIR", str(tmp_path / "out"))
    plugin = drift_report.CallbackModule()
    plugin._load_name = name
    plugin.set_options()
    yield plugin
    atexit.unregister(plugin._write_if_interrupted)


def test_the_callback_writes_the_three_files_at_the_end_of_the_run(callback, tmp_path, capsys):
    callback.v2_playbook_on_start(Playbook())
    callback.v2_runner_on_ok(Result("lyon", Task("Profile", "intune.autopilot.autopilot_profile"), PROFILE))
    callback.v2_runner_on_ok(Result("lyon", Task("Debug", "ansible.builtin.debug"), {"msg": "not recorded"}))
    callback.v2_runner_on_ok(Result("lyon", Task("Group", "intune.autopilot.aad_group", args={
        "display_name": "AP - Lyon", "client_secret": "the-client-secret-value"}), {"changed": False}))
    callback.v2_runner_on_failed(Result("lyon", Task("Gate", "ansible.builtin.fail"),
                                        {"msg": "Drift; secret the-client-secret-value"}))
    callback.v2_playbook_on_stats(Stats({"lyon": 1}))
    out = tmp_path / "out"
    assert sorted(os.listdir(str(out))) == ["drift.html", "drift.json", "drift.md"]
    written = json.loads((out / "drift.json").read_text())
    assert (written["drift"], written["check_mode"], written["status"], written["playbook"]) == (
        True, True, "failed", "user_driven_join.yml")
    assert [c["object"] for c in written["changes"]] == ["Lyon <profile> | A&B"]
    assert [f["message"] for f in written["failures"]] == ["Drift; secret ********"]
    assert [r["args"] for r in callback._records] == [{}, {"display_name": "AP - Lyon"}, {}]
    for name in ("drift.json", "drift.md", "drift.html"):
        assert "the-client-secret-value" not in (out / name).read_text()
    assert "Drift report (check mode, failed): 1 change(s)" in capsys.readouterr().out


def test_a_run_without_final_stats_is_written_as_interrupted(callback, tmp_path):
    callback.v2_playbook_on_start(Playbook())
    callback.v2_runner_on_ok(Result("lyon", Task("Profile", "intune.autopilot.autopilot_profile"), PROFILE))
    callback._write_if_interrupted()
    written = json.loads((tmp_path / "out" / "drift.json").read_text())
    assert (written["status"], len(written["changes"])) == ("interrupted", 1)
    (tmp_path / "out" / "drift.json").unlink()
    callback._write_if_interrupted()
    assert not (tmp_path / "out" / "drift.json").exists()


def test_a_report_that_cannot_be_written_is_a_warning(callback, tmp_path, capsys):
    (tmp_path / "out").write_text("a file where the directory should be")
    callback.v2_playbook_on_start(Playbook())
    callback.v2_playbook_on_stats(Stats({}))
    assert "could not write the report" in capsys.readouterr().err

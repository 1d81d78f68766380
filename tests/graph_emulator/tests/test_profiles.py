"""Timing profiles (realistic by default, best-case on request) and the time scale."""

import json
import os
import signal
import subprocess
import sys

import pytest
import requests

from tests.graph_emulator import Emulator, profiles
from tests.graph_emulator.app import GraphApp

from .conftest import GraphClient

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_realistic_is_the_default_and_best_case_the_old_defaults():
    realistic = GraphApp().tenant.settings
    assert realistic["profile"] == "realistic"
    for name, value in profiles.PROFILES["realistic"].items():
        assert realistic[name] == value, name
    best = GraphApp({"profile": "best-case"}).tenant.settings
    assert best == profiles.DEFAULTS
    assert best["import_delay"] == 5.0 and best["devices_listed_after_sync"] is False and best["time_scale"] == 1.0


def test_explicit_settings_win_over_the_profile_and_survive_a_reset_to_another_profile():
    app = GraphApp({"profile": "best-case", "page_size": 7, "import_delay": None})
    assert app.tenant.settings["page_size"] == 7 and app.tenant.settings["import_delay"] == 5.0
    app.reset({"profile": "realistic"})
    assert app.tenant.settings["profile"] == "realistic" and app.tenant.settings["page_size"] == 7
    assert app.tenant.settings["sync_duration"] == 180.0
    app.reset()
    assert app.tenant.settings["profile"] == "best-case" and app.tenant.settings["sync_duration"] == 10.0


@pytest.mark.parametrize("settings", [{"profile": "worst"}, {"time_scale": 0}, {"time_scale": -1}])
def test_bad_profile_or_time_scale_is_refused(settings):
    with pytest.raises(ValueError):
        profiles.resolve(settings)


def test_reset_through_the_control_api_names_the_profile(emulator, control):
    answer = control("POST", "reset", {"profile": "realistic", "time_scale": 30})
    assert answer["settings"]["profile"] == "realistic" and answer["settings"]["time_scale"] == 30
    assert control("GET", "settings")["batch_write_needs_body"] is True
    refused = requests.post(emulator.url + "/_emulator/reset", json={"profile": "worst"}, verify=emulator.ca_path)
    assert refused.status_code == 400 and "realistic, best-case" in refused.json()["error"]["message"]
    assert control("POST", "reset", {"settings": {"profile": "best-case"}})["settings"]["profile"] == "best-case"


def test_delays_run_on_the_scaled_clock_and_dates_stay_on_it():
    """90 service seconds of import at time scale 60 take 1.5 seconds of the clock; the record is dated by the
    clock (not by service time), and the 10-minute sync rule stays 600 seconds of the clock."""
    with Emulator(profile="realistic", throttle=False) as emu:
        tenant = emu.tenant
        assert tenant.delay("import_delay") == 1.5 and tenant.delay("sync_duration") == 3.0
        beta = GraphClient(emu, "beta")
        record = beta.post("/deviceManagement/importedWindowsAutopilotDeviceIdentities",
                           json={"serialNumber": "SCALE1", "hardwareIdentifier": "aGFzaA=="}).json()
        base = "/deviceManagement/importedWindowsAutopilotDeviceIdentities/" + record["id"]
        tenant.clock.advance(1.0)
        assert beta.get(base).json()["state"]["deviceImportStatus"] == "pending"
        tenant.clock.advance(0.6)
        assert beta.get(base).json()["state"]["deviceImportStatus"] == "complete"
        assert beta.post("/deviceManagement/windowsAutopilotSettings/sync").status_code == 204
        tenant.clock.advance(5.0)
        assert beta.post("/deviceManagement/windowsAutopilotSettings/sync").status_code == 429
        tenant.clock.advance(600.0)
        assert beta.post("/deviceManagement/windowsAutopilotSettings/sync").status_code == 204


def test_cli_profile_option_and_ready_line(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "tests.graph_emulator", "--profile", "best-case", "--no-throttle",
                             "--time-scale", "2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(proc.stdout.readline())
        assert ready["profile"] == "best-case"
        settings = requests.get(ready["url"] + "/_emulator/settings", verify=ready["ca_path"]).json()
        assert settings["time_scale"] == 2 and settings["throttle"] is False and settings["import_delay"] == 5.0
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0

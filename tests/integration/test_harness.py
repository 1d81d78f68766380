# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The harness itself: emulator profiles, and the request-log check every test runs (conftest.py)."""

from tests.integration import harness


def test_start_and_reset_on_either_profile(start_emulator, monkeypatch):
    emu = start_emulator(profile='realistic')
    assert emu.profile == 'realistic'
    assert emu.control('GET', 'settings')['sync_duration'] == 180.0
    emu.reset(profile='best-case', page_size=3)
    settings = emu.control('GET', 'settings')
    assert (settings['profile'], settings['page_size'], settings['sync_duration']) == ('best-case', 3, 10.0)
    emu.reset()
    assert emu.control('GET', 'settings')['profile'] == 'realistic'
    monkeypatch.setenv(harness.PROFILE_ENV, 'realistic')
    assert start_emulator('--import-delay', '1').profile == 'realistic'
    assert start_emulator('--profile', 'best-case').profile == 'best-case'
    monkeypatch.delenv(harness.PROFILE_ENV)
    assert start_emulator().profile == harness.DEFAULT_PROFILE

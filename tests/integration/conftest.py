# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the integration harness; the API is described in harness.py's docstring."""

import pytest

from tests.integration import harness


@pytest.fixture(scope='session')
def collections_path(tmp_path_factory):
    """A directory with ``ansible_collections/intune/autopilot`` -> the working tree."""
    return harness.make_collections_path(tmp_path_factory.mktemp('collections'))


@pytest.fixture(scope='session')
def emulator(tmp_path_factory):
    """One emulator per pytest process (per xdist worker), default command line (harness.DEFAULT_PROFILE)."""
    emu = harness.start_emulator(workdir=tmp_path_factory.mktemp('emulator'))
    yield emu
    emu.stop()


@pytest.fixture
def start_emulator(tmp_path_factory):
    """Factory: ``start_emulator('--throttle', ..., profile=None)`` -> a new Emulator, stopped after the test."""
    started = []

    def start(*args, profile=None):
        emu = harness.start_emulator(*args, workdir=tmp_path_factory.mktemp('emulator'), profile=profile)
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.fixture(autouse=True)
def batch_writes_have_bodies():
    """Suite-wide (issue 13): after each test, no emulator the harness started logged, during the test, a write
    inside $batch without a body and a Content-Type (Graph refuses the whole batch). Fails the test at teardown,
    naming each offending request; emulators already stopped are checked one last time and then forgotten."""
    yield
    found = []
    for emu in list(harness.STARTED):
        found += ['%s: %s' % (emu.url, line) for line in harness.batch_writes_without_body(emu.new_log_entries())]
        if emu.proc.poll() is not None:
            harness.STARTED.remove(emu)
    if found:
        pytest.fail('Graph refuses a POST, PATCH or PUT inside $batch without a body and a Content-Type header, and the '
                    'whole batch with it (tests/graph_emulator/batch.py); this test sent:\n  ' + '\n  '.join(found),
                    pytrace=False)


@pytest.fixture
def run_playbook(request, collections_path):
    """``run_playbook(playbook, check=False, diff=False, extra_vars=None, tags=None, env_extra=None,
    inventory=None, verbosity=0, emulator=None)`` -> harness.PlaybookResult.

    Without ``emulator=`` it runs against the session ``emulator`` fixture (started on first use).
    """

    def run(playbook, emulator=None, **kwargs):
        emu = emulator if emulator is not None else request.getfixturevalue('emulator')
        return harness.run_playbook(playbook, emulator=emu, collections_path=collections_path, **kwargs)

    return run


@pytest.fixture
def assert_no_secret():
    return harness.assert_no_secret


@pytest.fixture
def writes_since(request):
    """``writes_since(mark, emulator=None)``: Graph writes logged since ``mark`` (the session emulator by default)."""

    def since(mark, emulator=None):
        emu = emulator if emulator is not None else request.getfixturevalue('emulator')
        return emu.writes_since(mark)

    return since


# Figures of the fault tests (issue 9), printed at the end of the run: the hooks must live in a conftest that the
# xdist controller loads (it never imports test modules). See conftest_faults.py.
from tests.integration.conftest_faults import pytest_runtest_logreport, pytest_terminal_summary  # noqa: E402,F401 pylint: disable=unused-import,wrong-import-position

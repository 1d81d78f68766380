# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Figures of the fault tests (issue 9), printed at the end of the pytest run.

A test of tests/integration/test_faults.py records its figures with :func:`record` as ``user_properties`` of
its report (``("faults", {...})``): faults the emulator injected (its ``/_emulator/faults`` counters),
throttled answers, retries the modules made (their ``graph_stats``), and the seconds it took. pytest-xdist
sends ``user_properties`` from the workers to the controller with each report, so the controller adds them
up here and prints one table in the terminal summary (and they land in the junit XML as properties).

The hooks are active when this module is registered as a plugin: tests/integration/conftest.py imports
them (``from tests.integration.conftest_faults import pytest_runtest_logreport, pytest_terminal_summary``).
With xdist only the controller's conftest hooks print, and the controller never imports test modules,
so a ``pytest_plugins`` line in the test module would not be enough.
"""

import json

KEY = 'faults'
_FIGURES = []


def record(request, name, injected=None, throttled=0, retries=0, seconds=0.0, seed=None, **extra):
    """Attach one row of figures to the current test's report."""
    row = {'name': name, 'injected': dict(injected or {}), 'throttled': int(throttled or 0),
           'retries': int(retries or 0), 'seconds': round(float(seconds), 1), 'seed': seed}
    row.update(extra)
    request.node.user_properties.append((KEY, json.dumps(row, sort_keys=True)))
    return row


def pytest_runtest_logreport(report):
    if report.when != 'call':
        return
    for key, value in getattr(report, 'user_properties', ()) or ():
        if key == KEY:
            try:
                _FIGURES.append(json.loads(value))
            except (TypeError, ValueError):
                continue


def pytest_terminal_summary(terminalreporter):
    if not _FIGURES:
        return
    write = terminalreporter.write_line
    terminalreporter.section('faults, retries and time (issue 9)')
    total_faults = total_retries = total_throttled = 0
    seconds = 0.0
    for row in sorted(_FIGURES, key=lambda r: r['name']):
        injected = row['injected']
        faults = sum(injected.values())
        total_faults += faults
        total_retries += row['retries']
        total_throttled += row['throttled']
        seconds += row['seconds']
        kinds = ', '.join('%s=%d' % (k, v) for k, v in sorted(injected.items())) or '-'
        write('%-58s faults %3d  throttled %3d  retries %3d  %6.1f s%s  [%s]' % (
            row['name'][:58], faults, row['throttled'], row['retries'], row['seconds'],
            '  seed %s' % row['seed'] if row.get('seed') is not None else '', kinds))
    write('%-58s faults %3d  throttled %3d  retries %3d  %6.1f s (sum of test times)' % (
        'total (%d tests)' % len(_FIGURES), total_faults, total_throttled, total_retries, seconds))

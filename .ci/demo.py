# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make demo``: run a playbook twice against a freshly started Graph emulator.

Starts ``python -m tests.graph_emulator`` (reading its ready line), runs the playbook with the
environment pointing at it (AZURE_* / INTUNE_GRAPH_URL / REQUESTS_CA_BUNDLE, as a user would for a
real tenant), runs it a second time to show that nothing changes, prints a short summary of the
tenant, and leaves ``.demo/requests.jsonl`` (every request the collection sent) and
``.demo/tenant.json`` (the tenant afterwards). Exits non-zero when a run fails or the second run
changes anything.

    python .ci/demo.py [--playbook P] [--inventory I] [--runs N] [-- emulator args...]
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import json
import os
import shutil
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tests.integration import harness  # noqa: E402  pylint: disable=wrong-import-position


def summarize(state):
    """One line per kind of object in the tenant, with the display names of the first few."""
    sets = state.get('sets', state) if isinstance(state, dict) else {}
    lines = []
    for kind in sorted(sets):
        objects = sets[kind]
        values = list(objects.values()) if isinstance(objects, dict) else objects if isinstance(objects, list) else []
        names = [str(o.get('displayName') or o.get('serialNumber') or o.get('userPrincipalName') or o.get('id'))
                 for o in values if isinstance(o, dict)]
        shown = ', '.join(names[:5]) + (', ...' if len(names) > 5 else '')
        lines.append('  %-45s %4d  %s' % (kind, len(values), shown))
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--playbook', default='playbooks/demo_aad_group.yml')
    parser.add_argument('--inventory', default=None, help='inventory path (default: localhost, local connection)')
    parser.add_argument('--runs', type=int, default=2)
    parser.add_argument('--out', default=os.path.join(REPO, '.demo'))
    parser.add_argument('emulator_args', nargs='*', help='extra emulator arguments (after --)')
    args = parser.parse_args()

    playbook = os.path.join(REPO, args.playbook) if not os.path.isabs(args.playbook) else args.playbook
    inventory = None
    if args.inventory:
        inventory = os.path.join(REPO, args.inventory) if not os.path.isabs(args.inventory) else args.inventory

    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    emulator = harness.start_emulator(*args.emulator_args, workdir=args.out)
    status = 0
    try:
        print('emulator: %s (tenant %s, client %s)' % (emulator.url, emulator.tenant_id, emulator.client_id))
        if not os.path.exists(playbook):
            print('%s does not exist yet: nothing to run' % os.path.relpath(playbook, REPO))
        else:
            collections = harness.make_collections_path(tempfile.mkdtemp(prefix='demo-collections-'))
            for run in range(1, args.runs + 1):
                result = harness.run_playbook(playbook, emulator=emulator, collections_path=collections,
                                              inventory=inventory, diff=True,
                                              workdir=os.path.join(args.out, 'run-%d' % run))
                print('\n=== run %d: %s' % (run, ' '.join(result.command[1:])))
                print(result.stdout.rstrip())
                if result.stderr.strip():
                    print(result.stderr.rstrip(), file=sys.stderr)
                if result.rc != 0 or result.failed:
                    print('run %d FAILED (rc=%s)' % (run, result.rc))
                    status = 1
                    break
                if run > 1 and result.changed:
                    print('run %d changed %d task(s): NOT idempotent' % (run, result.changed))
                    status = 1
                else:
                    print('run %d: ok, %d changed' % (run, result.changed))
        state = emulator.state()
        with open(os.path.join(args.out, 'tenant.json'), 'w') as handle:
            json.dump(state, handle, indent=2, sort_keys=True)
        writes = emulator.writes_since(0)
        print('\n=== tenant after the demo (%d Graph writes in total)' % len(writes))
        print(summarize(state))
        print('\nrequest log: %s' % os.path.relpath(str(emulator.request_log), REPO))
        print('tenant:      %s' % os.path.relpath(os.path.join(args.out, 'tenant.json'), REPO))
    finally:
        emulator.stop()
    return status


if __name__ == '__main__':
    sys.exit(main())

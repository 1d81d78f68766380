# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make demo``: run a playbook twice against a freshly started Graph emulator.

The emulator runs on its realistic profile (the service's documented delays, scaled by its time scale, and its
refusals; tests/graph_emulator/README.md); ``--best-case`` starts it on the best-case profile instead. By default
the playbook is playbooks/user_driven_join.yml (role user_driven_join) with the example
inventory playbooks/inventory/example (two sites). Starts ``python -m tests.graph_emulator`` (reading
its ready line), runs the playbook with the environment pointing at it (AZURE_* / INTUNE_GRAPH_URL /
REQUESTS_CA_BUNDLE, as a user would for a real tenant), runs it a second time to show that nothing
changes, prints a summary of the tenant read back through Graph (ESPs with settings, assignments and
priority; profiles and their assignments; groups and members; Autopilot devices with group tag,
profile status, profile and user), and leaves ``.demo/requests.jsonl`` (every request the collection
sent) and ``.demo/tenant.json`` (the tenant afterwards). Exits non-zero when a run fails or a later
run reports a change or sends a Graph write.

    python .ci/demo.py [--playbook P] [--inventory I] [--extra-vars JSON] [--runs N] [--best-case] [-- emulator args...]
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tests.integration import harness  # noqa: E402  pylint: disable=wrong-import-position


def graph_reader(emulator):
    """A GET function for Graph paths at the emulator, with a token of its own (not the collection's code)."""
    import requests  # the venv's; imported here so that --help works anywhere

    token = requests.post('%s/%s/oauth2/v2.0/token' % (emulator.url, emulator.tenant_id), verify=emulator.ca_path,
                          timeout=30, data={'grant_type': 'client_credentials', 'client_id': emulator.client_id,
                                            'client_secret': emulator.client_secret,
                                            'scope': 'https://graph.microsoft.com/.default'}).json()['access_token']

    def get(path, api='beta'):
        url, items = '%s/%s%s' % (emulator.url, api, path), []
        while url:
            body = requests.get(url, headers={'Authorization': 'Bearer ' + token}, verify=emulator.ca_path, timeout=30).json()
            if 'value' not in body:
                return body
            items.extend(body['value'])
            url = body.get('@odata.nextLink')
        return items
    return get


ESP_TYPE = '#microsoft.graph.windows10EnrollmentCompletionPageConfiguration'
ESP_SETTINGS = ('showInstallationProgress', 'installProgressTimeoutInMinutes', 'allowLogCollectionOnInstallFailure',
                'trackInstallProgressForAutopilotOnly', 'blockDeviceSetupRetryByUser', 'allowDeviceResetOnInstallFailure',
                'allowDeviceUseOnInstallFailure', 'installQualityUpdates', 'selectedMobileAppIds', 'customErrorMessage')


def shorten(value, width=40):
    """A setting's value as JSON, long strings cut."""
    if isinstance(value, str) and len(value) >= width:
        value = value[:width - 3] + '...'
    return json.dumps(value)


def summarize(get):
    """The tenant as Graph shows it: ESPs, profiles, groups, Autopilot devices (reads through Graph beta/v1.0)."""
    groups = dict((g['id'], g) for g in get('/groups', api='v1.0'))

    def target(assignment):
        t = assignment.get('target') or {}
        kind = t.get('@odata.type', '').rsplit('.', 1)[-1]
        if 'groupId' in t:
            name = groups.get(t['groupId'], {}).get('displayName', t['groupId'])
            return ('exclude ' if kind.startswith('exclusion') else '') + name
        return {'allDevicesAssignmentTarget': 'all devices', 'allLicensedUsersAssignmentTarget': 'all users'}.get(kind, kind)

    lines = ['Enrollment Status Pages (ESP):']
    for esp in sorted((c for c in get('/deviceManagement/deviceEnrollmentConfigurations') if c.get('@odata.type') == ESP_TYPE),
                      key=lambda c: c.get('priority', 0)):
        assignments = get('/deviceManagement/deviceEnrollmentConfigurations/%s/assignments' % esp['id'])
        lines.append('  [priority %s] %s -> %s' % (esp.get('priority'), esp.get('displayName'),
                                                   ', '.join(target(a) for a in assignments) or 'not assigned'))
        lines.append('      ' + ', '.join('%s=%s' % (k, shorten(esp[k])) for k in ESP_SETTINGS if k in esp))
    profiles = get('/deviceManagement/windowsAutopilotDeploymentProfiles')
    profile_names = dict((p['id'], p['displayName']) for p in profiles)
    lines.append('Autopilot deployment profiles:')
    for profile in sorted(profiles, key=lambda p: p['displayName']):
        oobe = profile.get('outOfBoxExperienceSetting') or {}
        assignments = get('/deviceManagement/windowsAutopilotDeploymentProfiles/%s/assignments' % profile['id'])
        lines.append('  %s -> %s' % (profile['displayName'], ', '.join(target(a) for a in assignments) or 'not assigned'))
        lines.append('      locale=%s deviceNameTemplate=%s %s user=%s eulaHidden=%s privacySettingsHidden=%s '
                     'escapeLinkHidden=%s keyboardSelectionPageSkipped=%s preprovisioningAllowed=%s' % (
                         profile.get('locale'), profile.get('deviceNameTemplate') or '(none)', oobe.get('deviceUsageType'),
                         oobe.get('userType'), oobe.get('eulaHidden'), oobe.get('privacySettingsHidden'),
                         oobe.get('escapeLinkHidden'), oobe.get('keyboardSelectionPageSkipped'),
                         profile.get('preprovisioningAllowed')))
    lines.append('Groups:')
    for group in sorted(groups.values(), key=lambda g: g['displayName']):
        members = get('/groups/%s/members' % group['id'], api='v1.0')
        lines.append('  %s (%s): %d member(s)%s' % (
            group['displayName'], 'dynamic' if 'DynamicMembership' in (group.get('groupTypes') or []) else 'assigned',
            len(members), ': ' + ', '.join(sorted(m.get('displayName') or m['id'] for m in members)) if members else ''))
        if group.get('membershipRule'):
            lines.append('      rule: %s' % group['membershipRule'])
    devices = get('/deviceManagement/windowsAutopilotDeviceIdentities')
    lines.append('Autopilot devices:')
    lines.append('  %-12s %-8s %-16s %-32s %s' % ('serial', 'tag', 'profile status', 'profile', 'user'))
    for device in sorted(devices, key=lambda d: (d.get('groupTag') or '', d['serialNumber'])):
        profile = get('/deviceManagement/windowsAutopilotDeviceIdentities/%s/deploymentProfile' % device['id'])
        lines.append('  %-12s %-8s %-16s %-32s %s' % (
            device['serialNumber'], device.get('groupTag') or '-', device.get('deploymentProfileAssignmentStatus'),
            profile_names.get((profile or {}).get('id'), '-') if isinstance(profile, dict) and 'id' in profile else '-',
            device.get('userPrincipalName') or '-'))
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--playbook', default='playbooks/user_driven_join.yml')
    parser.add_argument('--inventory', default='playbooks/inventory/example/hosts.yml',
                        help='inventory path (empty: localhost, local connection)')
    parser.add_argument('--extra-vars', default='{"user_driven_join_poll_interval": 2}',
                        help='JSON extra variables for every run (default: poll the emulator every 2 s)')
    parser.add_argument('--runs', type=int, default=2)
    parser.add_argument('--out', default=os.path.join(REPO, '.demo'))
    parser.add_argument('--best-case', action='store_true',
                        help='start the emulator on its best-case profile (instant) instead of the realistic one')
    parser.add_argument('emulator_args', nargs='*', help='extra emulator arguments (after --)')
    args = parser.parse_args()

    playbook = os.path.join(REPO, args.playbook) if not os.path.isabs(args.playbook) else args.playbook
    inventory = None
    if args.inventory:  # an empty --inventory runs against localhost
        inventory = os.path.join(REPO, args.inventory) if not os.path.isabs(args.inventory) else args.inventory

    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    emulator = harness.start_emulator(*args.emulator_args, workdir=args.out,
                                      profile='best-case' if args.best_case else 'realistic')
    status = 0
    started = time.monotonic()
    try:
        print('emulator: %s (tenant %s, client %s, %s profile)' % (emulator.url, emulator.tenant_id, emulator.client_id,
                                                                   emulator.profile))
        if not os.path.exists(playbook):
            print('%s does not exist yet: nothing to run' % os.path.relpath(playbook, REPO))
        else:
            collections = harness.make_collections_path(tempfile.mkdtemp(prefix='demo-collections-'))
            for run in range(1, args.runs + 1):
                mark = emulator.mark()
                run_started = time.monotonic()
                result = harness.run_playbook(playbook, emulator=emulator, collections_path=collections,
                                              inventory=inventory, diff=True, extra_vars=json.loads(args.extra_vars or '{}'),
                                              workdir=os.path.join(args.out, 'run-%d' % run))
                writes = emulator.writes_since(mark)
                seconds = time.monotonic() - run_started
                print('\n=== run %d: %s' % (run, ' '.join(result.command[1:])))
                print(result.stdout.rstrip())
                if result.stderr.strip():
                    print(result.stderr.rstrip(), file=sys.stderr)
                for line in harness.batch_writes_without_body(emulator.requests_since(mark)):
                    print('run %d sent a write inside $batch that Graph refuses: %s' % (run, line))
                if result.rc != 0 or result.failed:
                    print('run %d FAILED (rc=%s) after %.0f s' % (run, result.rc, seconds))
                    status = 1
                    break
                if run > 1 and (result.changed or writes):
                    print('run %d: changed=%d, %d Graph write(s): NOT idempotent (%.0f s)' % (
                        run, result.changed, len(writes), seconds))
                    status = 1
                else:
                    print('run %d: ok, changed=%d, %d Graph write(s)%s (%.0f s)' % (
                        run, result.changed, len(writes), ' - nothing changed' if run > 1 else '', seconds))
        state = emulator.state()
        with open(os.path.join(args.out, 'tenant.json'), 'w') as handle:
            json.dump(state, handle, indent=2, sort_keys=True)
        writes = emulator.writes_since(0)
        print('\n=== tenant after the demo (%d Graph writes in total, from run 1; the summary below reads through Graph)'
              % len(writes))
        print(summarize(graph_reader(emulator)))
        print('\ndemo time: %.0f s' % (time.monotonic() - started))
        print('request log: %s' % os.path.relpath(str(emulator.request_log), REPO))
        print('tenant:      %s' % os.path.relpath(os.path.join(args.out, 'tenant.json'), REPO))
    finally:
        emulator.stop()
    return status


if __name__ == '__main__':
    sys.exit(main())

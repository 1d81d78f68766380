# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection run the way AWX / Automation Platform runs it, against the Graph emulator (issue 8).

AWX runs a job through ansible-runner with a private data directory it lays out itself. These tests build that
directory the same way, from what AWX's own code does (ansible/awx, snapshot of 2024-10-23, and
ansible/awx-plugins), then run ``ansible-runner run <private_data_dir> -p playbooks/user_driven_join.yml``:

* ``project/``: the repository as a project sync leaves it (a copy without ``.git``: awx/main/tasks/jobs.py copies
  the project with ``shutil.copytree(..., ignore=ignore_patterns('.git'))``);
* ``requirements_collections/``: what the project sync's ``ansible-galaxy collection install -r
  collections/requirements.yml`` installed, run from the project root (awx/playbooks/project_update.yml; AWX
  points it there with ANSIBLE_COLLECTIONS_PATHS, a name ansible-core 2.19 no longer reads, so the test uses
  ANSIBLE_COLLECTIONS_PATH); the job gets both spellings with that folder first (awx/main/tasks/jobs.py
  ``build_env``);
* ``inventory/hosts``: the inventory as AWX hands it to a job, an executable script printing the JSON of the
  inventory AWX imported from the project's inventory source (``ansible-inventory --list --export``,
  awx/main/tasks/jobs.py ``RunInventoryUpdate.build_args`` and ``write_inventory_file``), so variables arrive
  unrendered and ``inventory_dir`` is ``<private_data_dir>/inventory``, not the project's inventory folder;
* ``env/envvars``: what the credential injected; the built-in "Microsoft Azure Resource Manager" credential
  (awx/main/models/credential/injectors.py ``azure_rm``: AZURE_SUBSCRIPTION_ID always, then AZURE_CLIENT_ID,
  AZURE_TENANT, AZURE_SECRET, with '' for an empty field) or the custom credential type of
  examples/awx/credential_type.yml, rendered the way ``CredentialType.inject_credential`` renders it (only the
  ``tower`` namespace; empty inputs left out of the namespace so they render as ''; every file injector written
  to ``env/`` even when its input is empty);
* ``env/settings``: AWX's runner settings (``job_timeout``, ``suppress_ansible_output``);
* ``env/extravars``: the survey answers (two values that are safe at extra-var precedence).

The emulator's URLs and CA reach the job as environment variables (AZURE_AUTHORITY_HOST, INTUNE_GRAPH_URL,
REQUESTS_CA_BUNDLE), as an AWX admin would add them with "Extra Environment Variables" for a private cloud.

A check job with a per-site variable among the extra vars shows why docs/awx.md keeps site settings out of
extra vars and surveys: the value wins over every site's host_vars.

What is checked: the job status and rc that ansible-runner reports, the tenant read back from the emulator (not
from the job's output), and that the secret appears in no job output or event. It does appear in
``env/envvars``: that file is ansible-runner's input, written here as ansible-runner's CLI needs it. AWX itself
passes the variables through ansible-runner's API with ``suppress_env_files`` (AWX_RUNNER_OMIT_ENV_FILES,
default True), but a job's private data directory still holds the secret while the job runs.

The second test checks the example execution-environment definition: ``ansible-builder create`` (no container
engine needed) and then the build's galaxy and introspection stages replayed from the generated context, which
must yield the collection's Python requirements.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from jinja2 import StrictUndefined
from jinja2.exceptions import UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tests.integration import harness

REPO = harness.REPO_ROOT
BIN = Path(sys.executable).parent
PLAYBOOK = 'playbooks/user_driven_join.yml'
INVENTORY_SOURCE = 'playbooks/inventory/example/hosts.yml'
CREDENTIAL_TYPE = REPO / 'examples' / 'awx' / 'credential_type.yml'
EE_DEFINITION = REPO / 'examples' / 'execution-environment' / 'execution-environment.yml'
NEEDED = ('aad_group', 'intune_esp', 'autopilot_profile', 'autopilot_device')
MISSING = [m for m in NEEDED if not (REPO / 'plugins' / 'modules' / (m + '.py')).exists()]
pytestmark = pytest.mark.skipif(bool(MISSING), reason='the role calls modules not written yet: %s' % ', '.join(MISSING))

# Survey answers: values that are the same for every site, so extra-var precedence does no harm (docs/awx.md).
SURVEY = {'user_driven_join_poll_interval': 1, 'user_driven_join_wait_timeout': 300}
SITES = {
    'berlin': {'tag': 'BER', 'locale': 'de-DE', 'serials': {'5CG3281KQ7', '5CG3281KR2', '5CG3294LM8'}},
    'lyon': {'tag': 'LYS', 'locale': 'fr-FR', 'serials': {'PF4KX2L9', 'PF4KX3M1'}},
}
ESP_NAME = 'Contoso Autopilot ESP'
# Copying the project the way a git checkout has it: what .gitignore keeps out of a clone never reaches AWX.
NOT_IN_A_CLONE = ('.git', '.venv', '.venv-*', '.ansible', '.demo', '.bench', '.pytest_cache', '__pycache__',
                  '*.pyc', 'output', 'ansible_collections', '*.tar.gz')


def tool(name):
    """An executable of the venv running the tests (ansible-runner, ansible-galaxy, ...)."""
    path = BIN / name
    if not path.exists():
        found = shutil.which(name)
        if not found:
            pytest.fail('%s not found next to %s or on PATH' % (name, sys.executable))
        return found
    return str(path)


def clean_env(**extra):
    """The test process's environment without anything that would steer Ansible or the modules, plus ``extra``."""
    # PYTHONPATH goes too: the test runner may put a staged ansible_collections tree on it, and ansible-core
    # scans sys.path for collections (COLLECTIONS_SCAN_SYS_PATH), which would hide the copy the job must use.
    env = dict((k, v) for k, v in os.environ.items()
               if not k.startswith(('ANSIBLE_', 'AZURE_', 'INTUNE_', 'MSAL_')) and k not in harness._SCRUBBED
               and k != 'PYTHONPATH')
    env['PATH'] = str(BIN) + os.pathsep + env.get('PATH', '')
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    env.update(extra)
    return env


# --------------------------------------------------------------------------------------------------
# AWX: project sync, inventory import, credential injection
# --------------------------------------------------------------------------------------------------

def sync_project(dest, collections):
    """The project as AWX's project update leaves it: the repository's files and the collections it installed."""
    shutil.copytree(str(REPO), str(dest), ignore=shutil.ignore_patterns(*NOT_IN_A_CLONE))
    proc = subprocess.run([tool('ansible-galaxy'), 'collection', 'install', '-r', 'collections/requirements.yml'],
                          cwd=str(dest), capture_output=True, text=True, timeout=300, check=False,
                          env=clean_env(ANSIBLE_COLLECTIONS_PATH=str(collections), HOME=str(dest.parent)))
    assert proc.returncode == 0, 'project sync failed:\n%s\n%s' % (proc.stdout, proc.stderr)
    installed = collections / 'ansible_collections' / 'intune' / 'autopilot'
    assert (installed / 'MANIFEST.json').exists(), proc.stdout
    return json.loads((installed / 'MANIFEST.json').read_text())['collection_info']


def import_inventory(project, workdir):
    """What AWX stores from the inventory source "playbooks/inventory/example/hosts.yml" of the project."""
    source = project / INVENTORY_SOURCE
    output = workdir / 'inventory-update.json'
    proc = subprocess.run([tool('ansible-inventory'), '--list', '--export', '-i', str(source), '--output', str(output),
                           '--playbook-dir', str(source.parent)], cwd=str(project), capture_output=True, text=True,
                          timeout=120, check=False, env=clean_env(HOME=str(workdir)))
    assert proc.returncode == 0, proc.stderr
    return json.loads(output.read_text())


def write_inventory_script(pdd, imported):
    """inventory/hosts as AWX writes it for a job: a script printing the inventory (hostvars and tower vars)."""
    data = json.loads(json.dumps(imported))
    for number, hostvars in enumerate(data.get('_meta', {}).get('hostvars', {}).values(), 1):
        hostvars.update({'remote_tower_enabled': 'true', 'remote_tower_id': number})
    path = pdd / 'inventory' / 'hosts'
    path.parent.mkdir(parents=True)
    path.write_text('#! /usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint(%r)\n' % json.dumps(data))
    path.chmod(0o700)


def azure_rm_injection(emu):
    """env of AWX's built-in Azure RM credential (injectors.azure_rm) with subscription left empty."""
    return {'AZURE_SUBSCRIPTION_ID': '', 'AZURE_CLIENT_ID': emu.client_id, 'AZURE_TENANT': emu.tenant_id,
            'AZURE_SECRET': emu.client_secret}


def load_credential_type():
    return yaml.safe_load(CREDENTIAL_TYPE.read_text())


def validate_like_awx(cred_type):
    """AWX's check when the credential type is saved (awx/main/fields.py CredentialTypeInjectorField.validate):
    every template renders with StrictUndefined over the input ids and the reserved ``tower`` namespace only."""
    class Files:
        pass

    files = Files()
    for label in cred_type['injectors'].get('file', {}):
        assert label.startswith('template.'), 'use the multi-file syntax template.NAME: %s' % label
        setattr(files, label.split('.', 1)[1], 'EXAMPLE_FILENAME')
    namespace = dict((field['id'], 'EXAMPLE') for field in cred_type['inputs']['fields'])
    namespace['tower'] = type('Tower', (), {'filename': files})()
    sandbox = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for kind, injector in cred_type['injectors'].items():
        for key, template in injector.items():
            try:
                sandbox.from_string(template).render(namespace)
            except UndefinedError as exc:
                raise AssertionError('AWX would refuse the injector %s.%s: uses an undefined field (%s)' % (kind, key, exc))


def custom_injection(cred_type, inputs, pdd):
    """CredentialType.inject_credential for a custom type: returns (env, extra_vars); writes the file injectors."""
    namespace = {'tower': type('Tower', (), {})()}
    for field in cred_type['inputs']['fields']:
        value = inputs.get(field['id'], '')
        if value:  # AWX leaves empty inputs out of the namespace: they render as ''
            namespace[field['id']] = value
    sandbox = ImmutableSandboxedEnvironment()
    files = type('Files', (), {})()
    for label, template in cred_type['injectors'].get('file', {}).items():
        handle, path = tempfile.mkstemp(dir=str(pdd / 'env'))
        with os.fdopen(handle, 'w') as stream:
            stream.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        setattr(files, label.split('.', 1)[1], path)
    namespace['tower'].filename = files
    env = dict((name, sandbox.from_string(template).render(**namespace))
               for name, template in cred_type['injectors'].get('env', {}).items())
    extra_vars = dict((name, sandbox.from_string(template).render(**namespace))
                      for name, template in cred_type['injectors'].get('extra_vars', {}).items())
    return env, extra_vars


# --------------------------------------------------------------------------------------------------
# The job
# --------------------------------------------------------------------------------------------------

class Job:
    """One ansible-runner run of a private data directory; what it left behind."""

    def __init__(self, pdd, ident, proc):
        self.pdd = pdd
        self.ident = ident
        self.proc = proc
        self.artifacts = pdd / 'artifacts' / ident
        self.status = self._read('status')
        self.rc = self._read('rc')
        self.stdout = self._read('stdout')
        self.events = [json.loads(p.read_text()) for p in sorted((self.artifacts / 'job_events').glob('*.json'))]

    def _read(self, name):
        path = self.artifacts / name
        return path.read_text().strip() if path.exists() else None

    def text(self):
        """Everything the job showed: runner's own output, stdout artifact and every event."""
        return '\n'.join([self.proc.stdout, self.proc.stderr, self.stdout or '',
                          '\n'.join(json.dumps(event) for event in self.events)])

    def recap(self):
        stats = [e for e in self.events if e.get('event') == 'playbook_on_stats']
        return stats[-1]['event_data'] if stats else {}

    def explain(self):
        return 'status=%s rc=%s runner exit=%s\n%s\n%s' % (self.status, self.rc, self.proc.returncode,
                                                           (self.stdout or self.proc.stdout)[-6000:], self.proc.stderr[-2000:])


@pytest.fixture(scope='module')
def awx_project(tmp_path_factory):
    """The project synced once for the module: (project dir, requirements_collections dir, collection info)."""
    base = tmp_path_factory.mktemp('awx-project')
    project, collections = base / 'project', base / 'requirements_collections'
    info = sync_project(project, collections)
    return project, collections, info, import_inventory(project, base)


def prepare_job(awx_project, workdir):
    """A private data directory laid out as AWX lays it out for a job of this project."""
    project, collections, _info, imported = awx_project
    pdd = Path(workdir) / 'pdd'
    pdd.mkdir()
    shutil.copytree(str(project), str(pdd / 'project'), symlinks=True)
    shutil.copytree(str(collections), str(pdd / 'requirements_collections'), symlinks=True)
    write_inventory_script(pdd, imported)
    (pdd / 'env').mkdir()
    return pdd


def run_job(pdd, emu, envvars, extravars=None, ident='1', cmdline=None):
    """``ansible-runner run PDD -p playbooks/user_driven_join.yml`` with AWX's env files (``cmdline``: the
    job template's options that AWX passes in env/cmdline, e.g. job tags)."""
    cols = str(pdd / 'requirements_collections')
    awx_env = {
        # awx/main/tasks/jobs.py build_env: the project's collections first, for both spellings of the setting
        'ANSIBLE_COLLECTIONS_PATHS': cols + ':~/.ansible/collections:/usr/share/ansible/collections',
        'ANSIBLE_COLLECTIONS_PATH': cols + ':~/.ansible/collections:/usr/share/ansible/collections',
        'ANSIBLE_FORCE_COLOR': 'False',
        'ANSIBLE_RETRY_FILES_ENABLED': 'False',
        'ANSIBLE_HOST_KEY_CHECKING': 'False',
        'JOB_ID': ident,
        'PROJECT_REVISION': 'test',
        # Extra Environment Variables an admin sets for a private Graph endpoint (here: the emulator)
        'AZURE_AUTHORITY_HOST': emu.url,
        'INTUNE_GRAPH_URL': emu.url,
        'REQUESTS_CA_BUNDLE': emu.ca_path,
    }
    awx_env.update(envvars)
    (pdd / 'env' / 'envvars').write_text(yaml.safe_dump(awx_env))
    (pdd / 'env' / 'settings').write_text(json.dumps({'job_timeout': 600, 'suppress_ansible_output': True,
                                                     'suppress_output_file': False}))
    (pdd / 'env' / 'extravars').write_text(yaml.safe_dump(dict(SURVEY, **(extravars or {}))))
    cmdline_file = pdd / 'env' / 'cmdline'
    if cmdline:
        cmdline_file.write_text(cmdline)
    elif cmdline_file.exists():
        cmdline_file.unlink()
    cmd = [tool('ansible-runner'), 'run', str(pdd), '-p', PLAYBOOK, '--ident', ident]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False, stdin=subprocess.DEVNULL,
                          env=clean_env(XDG_CACHE_HOME=str(pdd / 'cache'), HOME=str(pdd / 'home')))
    return Job(pdd, ident, proc)


def objects(state, kind):
    values = state.get('sets', state).get(kind, {})
    return list(values.values()) if isinstance(values, dict) else list(values)


def by_name(state, kind, name):
    found = [o for o in objects(state, kind) if o.get('displayName') == name]
    assert len(found) == 1, '%d %s named %r in the emulator' % (len(found), kind, name)
    return found[0]


def assert_tenant_converged(emu):
    """The example inventory's tenant, read from the emulator."""
    state = emu.state()
    esp = by_name(state, 'deviceEnrollmentConfigurations', ESP_NAME)
    assert esp['installProgressTimeoutInMinutes'] == 90                 # group_vars of the inventory source
    tenant_group = by_name(state, 'groups', 'Autopilot devices')
    devices = dict((d['serialNumber'], d) for d in objects(state, 'windowsAutopilotDeviceIdentities'))
    assert set(devices) == SITES['berlin']['serials'] | SITES['lyon']['serials']
    for site, want in SITES.items():
        group = by_name(state, 'groups', 'Autopilot devices - %s' % site)       # host_vars of the inventory source
        assert want['tag'] in group['membershipRule']
        profile = by_name(state, 'windowsAutopilotDeploymentProfiles', 'User driven Entra join %s' % site)
        assert profile['locale'] == want['locale']
        for serial in want['serials']:
            assert devices[serial]['groupTag'] == want['tag'], devices[serial]
    return tenant_group


def assert_secret_not_shown(job, secret):
    text = job.text()
    harness.assert_no_secret(text, secret, what='client secret (job output/events)')
    harness.assert_no_token(text)


# --------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------

def test_credential_type_is_accepted_by_awx():
    """The example credential type would be saved by AWX and injects azure-identity's names, secrets not in extra_vars."""
    cred_type = load_credential_type()
    assert cred_type['kind'] == 'cloud'
    validate_like_awx(cred_type)
    fields = dict((f['id'], f) for f in cred_type['inputs']['fields'])
    secret_ids = set(i for i, f in fields.items() if f.get('secret'))
    assert {'client_secret', 'client_certificate'} <= secret_ids
    env = cred_type['injectors']['env']
    for name in ('AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH'):
        assert name in env, name
    assert not any(name.startswith('ANSIBLE_') for name in env)          # reserved by AWX
    for name, template in cred_type['injectors'].get('extra_vars', {}).items():
        assert not any(i in template for i in secret_ids), 'secret input in extra var %s' % name


def test_job_with_builtin_azure_credential(awx_project, start_emulator, tmp_path):
    """AWX's built-in "Microsoft Azure Resource Manager" credential works as it is: AZURE_TENANT / AZURE_SECRET."""
    emu = start_emulator('--import-delay', '1')
    emu.control('PATCH', 'settings', {'profile_assignment_delay': 1})
    pdd = prepare_job(awx_project, tmp_path)
    job = run_job(pdd, emu, azure_rm_injection(emu))
    assert job.proc.returncode == 0 and job.status == 'successful' and job.rc == '0', job.explain()
    assert job.recap().get('failures') == {}, job.recap()
    assert_tenant_converged(emu)
    assert_secret_not_shown(job, emu.client_secret)
    # As AWX's own job directory would: the secret is in the runner's input file (see the module docstring).
    assert emu.client_secret in (pdd / 'env' / 'envvars').read_text()


def test_job_with_custom_credential_type_secret_and_empty_certificate_file(awx_project, start_emulator, tmp_path):
    """The custom type with a secret and no certificate: AWX still writes the (empty) certificate file."""
    emu = start_emulator('--import-delay', '1')
    emu.control('PATCH', 'settings', {'profile_assignment_delay': 1})
    pdd = prepare_job(awx_project, tmp_path)
    env, extra_vars = custom_injection(load_credential_type(), {
        'tenant_id': emu.tenant_id, 'client_id': emu.client_id, 'client_secret': emu.client_secret}, pdd)
    cert_file = Path(env['AZURE_CLIENT_CERTIFICATE_PATH'])
    assert cert_file.parent == pdd / 'env' and cert_file.read_text() == ''
    assert extra_vars == {}
    job = run_job(pdd, emu, env)
    assert job.proc.returncode == 0 and job.status == 'successful' and job.rc == '0', job.explain()
    assert_tenant_converged(emu)
    assert_secret_not_shown(job, emu.client_secret)
    # A second job (a scheduled run with nothing to do) changes nothing and sends no Graph write.
    mark = emu.mark()
    rerun = run_job(pdd, emu, env, ident='2')
    assert rerun.status == 'successful', rerun.explain()
    assert sum(rerun.recap().get('changed', {}).values()) == 0, rerun.recap()
    assert emu.writes_since(mark) == []


def test_job_with_custom_credential_type_certificate(awx_project, start_emulator, tmp_path):
    """The custom type with the certificate PEM pasted in and no secret: the certificate file is what signs in.

    The job template's tags (``group,esp``, passed by AWX in env/cmdline) keep this job to the first two steps.
    """
    emu = start_emulator()
    pdd = prepare_job(awx_project, tmp_path)
    pem = Path(emu.info['cert_path']).read_text()
    env, _extra = custom_injection(load_credential_type(), {
        'tenant_id': emu.tenant_id, 'client_id': emu.info['cert_client_id'], 'client_certificate': pem}, pdd)
    assert env['AZURE_CLIENT_SECRET'] == '' and Path(env['AZURE_CLIENT_CERTIFICATE_PATH']).read_text() == pem
    job = run_job(pdd, emu, env, cmdline='--tags group,esp')
    assert job.proc.returncode == 0 and job.status == 'successful' and job.rc == '0', job.explain()
    state = emu.state()
    esp = by_name(state, 'deviceEnrollmentConfigurations', ESP_NAME)
    assert esp['installProgressTimeoutInMinutes'] == 90
    for site in SITES:
        by_name(state, 'groups', 'Autopilot devices - %s' % site)
    assert objects(state, 'windowsAutopilotDeploymentProfiles') == []      # --tags kept the job to two steps
    key = ''.join(pem.split('-----')[2].split())
    harness.assert_no_secret(job.text(), key[:64], what='private key')


def test_extra_vars_override_every_site(awx_project, start_emulator, tmp_path):
    """Why docs/awx.md keeps site settings out of extra vars: a survey answer beats every site's host_vars.

    A check job (AWX job type "Check" = --check, job tags in env/cmdline) with one per-site variable among the
    extra vars: both sites' predicted profiles get that value, and nothing is written.
    """
    emu = start_emulator()
    pdd = prepare_job(awx_project, tmp_path)
    mark = emu.mark()
    job = run_job(pdd, emu, azure_rm_injection(emu), extravars={'user_driven_join_locale': 'en-US'},
                  cmdline='--check --diff --tags profile')
    assert job.status == 'successful', job.explain()
    assert emu.writes_since(mark) == []
    predicted = {}
    for event in job.events:
        data = event.get('event_data', {})
        if event.get('event') == 'runner_on_ok' and data.get('task', '').startswith('Deployment profile of the site'):
            predicted[data['host']] = data['res']['diff']['after']['locale']
    assert predicted == {'berlin': 'en-US', 'lyon': 'en-US'}, predicted     # host_vars say de-DE and fr-FR


def test_execution_environment_definition_builds_a_context_with_the_collection_requirements(tmp_path):
    """``ansible-builder create`` on the example, then the image build's galaxy and introspect stages replayed."""
    definition = yaml.safe_load(EE_DEFINITION.read_text())
    assert definition['version'] == 3
    version = yaml.safe_load((REPO / 'galaxy.yml').read_text())['version']
    tarball = 'intune-autopilot-%s.tar.gz' % version
    wanted = [c['name'] for c in definition['dependencies']['galaxy']['collections']]
    assert wanted == ['collections/' + tarball], 'the EE definition names %s; galaxy.yml is at %s' % (wanted, version)

    # The user's steps (examples/execution-environment/execution-environment.yml, docs/awx.md).
    ee_dir = tmp_path / 'ee'
    shutil.copytree(str(EE_DEFINITION.parent), str(ee_dir))
    build = subprocess.run([tool('ansible-galaxy'), 'collection', 'build', '--force', '--output-path',
                            str(ee_dir / 'collections'), str(REPO)], capture_output=True, text=True, timeout=300,
                           check=False, env=clean_env(HOME=str(tmp_path)))
    assert build.returncode == 0, build.stderr
    assert (ee_dir / 'collections' / tarball).exists(), build.stdout
    context = tmp_path / 'context'
    create = subprocess.run([tool('ansible-builder'), 'create', '-f', 'execution-environment.yml', '--context',
                             str(context)], cwd=str(ee_dir), capture_output=True, text=True, timeout=300, check=False,
                            env=clean_env(HOME=str(tmp_path)))
    assert create.returncode == 0, create.stdout + create.stderr
    containerfile = next(p for p in (context / 'Containerfile', context / 'Dockerfile') if p.exists())
    text = containerfile.read_text()
    assert 'ARG EE_BASE_IMAGE="%s"' % definition['images']['base_image']['name'] in text
    assert 'ansible-galaxy collection install' in text and 'introspect' in text
    build_dir = context / '_build'
    assert (build_dir / 'collections' / tarball).exists()

    # Galaxy stage: WORKDIR /build (= _build), ansible-galaxy collection install -r requirements.yml.
    installed = tmp_path / 'usr-share-ansible' / 'collections'
    galaxy = subprocess.run([tool('ansible-galaxy'), 'collection', 'install', '-r', 'requirements.yml',
                             '--collections-path', str(installed)], cwd=str(build_dir), capture_output=True,
                            text=True, timeout=300, check=False, env=clean_env(HOME=str(tmp_path)))
    assert galaxy.returncode == 0, galaxy.stdout + galaxy.stderr
    # Builder stage: the context's own introspect script over the installed collections.
    requirements = tmp_path / 'requirements.txt'
    introspect = subprocess.run([sys.executable, str(build_dir / 'scripts' / 'introspect.py'), 'introspect',
                                 str(installed), '--write-pip', str(requirements), '--write-bindep',
                                 str(tmp_path / 'bindep.txt')], capture_output=True, text=True, timeout=120,
                                check=False, env=clean_env(HOME=str(tmp_path)))
    assert introspect.returncode == 0, introspect.stdout + introspect.stderr
    lines = requirements.read_text().splitlines()
    ours = [line.strip() for line in (REPO / 'requirements.txt').read_text().splitlines()
            if line.strip() and not line.startswith('#')]
    for requirement in ours:
        assert '%s  # from collection intune.autopilot' % requirement in lines, lines
    assert not (tmp_path / 'bindep.txt').exists()         # no system packages needed

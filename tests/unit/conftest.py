"""Make ``ansible_collections.intune.autopilot`` importable in plain pytest.

The repository root is the collection root but does not sit in an ``ansible_collections/intune/autopilot``
directory tree. This builds that tree once per session as a symlink in a temporary directory and puts it first on
sys.path, and puts the repository root on sys.path for ``tests.graph_emulator``.
"""

import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _collection_tree():
    base = tempfile.mkdtemp(prefix='intune-autopilot-tests-')
    namespace = os.path.join(base, 'ansible_collections', 'intune')
    os.makedirs(namespace)
    os.symlink(ROOT, os.path.join(namespace, 'autopilot'))
    return base


_TREE = _collection_tree()
sys.path.insert(0, _TREE)
if ROOT not in sys.path:
    sys.path.insert(1, ROOT)


def pytest_unconfigure(config):
    shutil.rmtree(_TREE, ignore_errors=True)

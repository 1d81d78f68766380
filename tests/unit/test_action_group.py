# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module is in meta/runtime.yml's action group ``graph`` and documents that membership.

A module left out of the group is silently skipped by ``module_defaults: group/intune.autopilot.graph``
(community.hashi_vault issues #251/#252), so this is checked, not remembered. The module's
DOCUMENTATION must extend ``intune.autopilot.attributes.action_group``, and that fragment section
must declare membership in ``intune.autopilot.graph``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
MODULES_DIR = os.path.join(ROOT, 'plugins', 'modules')
GROUP = 'graph'
FRAGMENT = 'intune.autopilot.attributes.action_group'


def module_names():
    if not os.path.isdir(MODULES_DIR):
        return []
    return sorted(name[:-3] for name in os.listdir(MODULES_DIR) if name.endswith('.py') and not name.startswith('_'))


def string_constant(path, name):
    """The string assigned to ``name`` at module level in ``path`` (or in a class body), without importing it."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value
    return None


def runtime_group():
    with open(os.path.join(ROOT, 'meta', 'runtime.yml')) as handle:
        runtime = yaml.safe_load(handle)
    return (runtime.get('action_groups') or {}).get(GROUP) or []


def test_group_lists_only_existing_modules_once():
    group = runtime_group()
    assert group, 'meta/runtime.yml has no action group %r' % GROUP
    duplicates = sorted(set(name for name in group if group.count(name) > 1))
    assert not duplicates, 'listed more than once in action_groups.%s: %s' % (GROUP, duplicates)
    stale = sorted(set(group) - set(module_names()))
    assert not stale, 'action_groups.%s names modules that do not exist in plugins/modules: %s' % (GROUP, stale)


def test_fragment_declares_membership():
    text = string_constant(os.path.join(ROOT, 'plugins', 'doc_fragments', 'attributes.py'), 'ACTION_GROUP')
    assert text, 'plugins/doc_fragments/attributes.py has no ACTION_GROUP section'
    action_group = (yaml.safe_load(text).get('attributes') or {}).get('action_group') or {}
    assert action_group.get('membership') == ['intune.autopilot.%s' % GROUP]
    assert action_group.get('support') == 'full'


@pytest.mark.parametrize('module', module_names())
def test_module_in_action_group(module):
    assert module in runtime_group(), (
        'plugins/modules/%s.py is missing from meta/runtime.yml action_groups.%s' % (module, GROUP))


@pytest.mark.parametrize('module', module_names())
def test_module_documents_action_group(module):
    doc = string_constant(os.path.join(MODULES_DIR, module + '.py'), 'DOCUMENTATION')
    assert doc, 'plugins/modules/%s.py has no DOCUMENTATION string' % module
    fragments = yaml.safe_load(doc).get('extends_documentation_fragment') or []
    if isinstance(fragments, str):
        fragments = [fragments]
    assert FRAGMENT in fragments, 'plugins/modules/%s.py does not extend %s' % (module, FRAGMENT)

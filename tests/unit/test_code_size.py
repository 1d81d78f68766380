# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The size limits the project keeps itself to (docs/developing.md, "Size"), measured by .ci/code_size.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_script():
    spec = importlib.util.spec_from_file_location('code_size', os.path.join(ROOT, '.ci', 'code_size.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_module_and_module_util_is_within_its_limit():
    rows = load_script().figures()
    assert any(name.startswith('plugins/modules/') for name, _count, _limit in rows)
    assert any(name.startswith('plugins/module_utils/') for name, _count, _limit in rows)
    over = ['%s: %d lines (limit %d)' % row for row in rows if row[1] > row[2]]
    assert not over, over


def test_the_measure_counts_code_after_the_documentation_only(tmp_path):
    module = tmp_path / 'example.py'
    module.write_text('DOCUMENTATION = r"""\nlong: doc\n"""\nEXAMPLES = """\n- x\n"""\n\n# a comment\n'
                      'import os\n\n\ndef main():\n    return os.sep\n')
    assert load_script().module_code_lines(str(module)) == 3

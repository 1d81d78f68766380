# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The filter ``intune.autopilot.export_inventory`` (documented in export_inventory.yml next to this file)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.intune.autopilot.plugins.plugin_utils._export_inventory import ExportError
from ansible_collections.intune.autopilot.plugins.plugin_utils._export_render import export_files


def plain(value):
    """Plain dicts, lists and strings: Ansible hands filters its own subclasses, which PyYAML's safe dumper refuses."""
    if isinstance(value, dict):
        return dict((plain(k), plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def export_inventory(esps, profiles, groups, devices, sites=None):
    try:
        return export_files(*[plain(v) for v in (esps, profiles, groups, devices, sites)])
    except ExportError as exc:
        raise AnsibleFilterError(" ".join(exc.problems))


class FilterModule(object):
    def filters(self):
        return {"export_inventory": export_inventory}

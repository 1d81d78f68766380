# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The files of an export: the inventory as YAML text and EXPORT.md, from an ``_export_inventory.Tenant``.

Internal to this collection; it may change in any release.

The text depends on nothing but the tenant (no date, no order that Graph may change), so an export of an unchanged
tenant writes the same bytes. Strings that Jinja would template (``{{``, ``{%``, ``{#``: a custom error message, a
description) are written ``!unsafe``, so the role sends them as they are.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import yaml

from ansible_collections.intune.autopilot.plugins.plugin_utils._export_inventory import Notes, Tenant

GROUP = "autopilot_sites"
MARKER = "# Written by intune.autopilot.export"
JINJA = ("{{", "{%", "{#")
RERUN = "# Re-running the export over this folder rewrites this file."


class _Dumper(yaml.SafeDumper):
    """Block style with indented sequences (as the example inventory), ``!unsafe`` where Jinja would template."""

    def increase_indent(self, flow=False, indentless=False):
        return super(_Dumper, self).increase_indent(flow, False)


def _represent_str(dumper, value):
    if any(mark in value for mark in JINJA):
        return dumper.represent_scalar("!unsafe", value, style="'")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


def _represent_none(dumper, _value):
    return dumper.represent_scalar("tag:yaml.org,2002:null", "")


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(type(None), _represent_none)


def dump(data):
    return yaml.dump(data, Dumper=_Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True, width=110)


def comment(lines):
    return "".join("# %s\n" % line if line else "#\n" for line in lines)


def yaml_file(header, sections):
    """``---``, the marker, the header comment, then each ``(comment lines, {variable: value})`` section."""
    text = "---\n%s\n%s%s\n" % (MARKER, comment(header), RERUN)
    for lines, data in sections:
        text += comment(lines) + dump(data)
    return text


def hosts_yml(tenant):
    header = ["One host per site: a Microsoft Entra join, user-driven deployment profile assigned to a dynamic group",
              "whose rule selects a group tag. The hosts are not machines: every task of the role runs on the",
              "controller, and a host only carries its site's variables (host_vars/<site>.yml).",
              "Run: ansible-playbook -i hosts.yml intune.autopilot.user_driven_join --check --diff"]
    hosts = dict((site["name"], None) for site in tenant.sites)
    return yaml_file(header, [([], {GROUP: {"hosts": hosts}})])


def group_vars_yml(tenant):
    header = ["Tenant-wide settings, written once per run by the first site: the group of all Autopilot devices and",
              "the Enrollment Status Page (ESP) the role manages. No credentials here: the modules read them from",
              "the environment (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)."]
    sections = []
    for var, value in tenant.tenant_vars():
        lines = []
        if var == "user_driven_join_esp_selected_apps" and value:
            names = dict(zip(tenant.esp.get("selectedMobileAppIds") or [], tenant.esp.get("selected_apps") or []))
            lines = ["The apps the ESP waits for, by id (app names need not be unique in Intune):"]
            lines += ["  %s: %s" % (app_id, names.get(app_id, app_id)) for app_id in value]
        sections.append((lines, {var: value}))
    return yaml_file(header, sections)


def host_vars_yml(tenant, site):
    header = ["Site %s: the devices with group tag %s, their dynamic group and deployment profile." % (site["name"], site["tag"]),
              "The devices are listed without hardware hash (Graph does not return it): a registered device needs",
              "none. To register a new device, add it with its hardware_identifier, or a CSV in",
              "user_driven_join_devices_csv."]
    sections = []
    for var, value in tenant.site_vars(site):
        lines = []
        if var == "user_driven_join_users":
            lines = ["Users assigned to devices (the tutorial's step \"Assign Autopilot device to a user\")."]
        sections.append((lines, {var: value}))
    return yaml_file(header, sections)


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(rows, head):
    out = "| %s |\n| %s |\n" % (" | ".join(head), " | ".join("---" for _h in head))
    return out + "".join("| %s |\n" % " | ".join(_cell(c) for c in row) for row in rows)


SECTIONS = (
    ("problems", "Problems: the role's check fails on these until they are resolved", ""),
    ("changes", "What the first run of the role changes", ""),
    ("profiles", "Deployment profiles the role does not manage",
     "No site names them, so the role never changes or deletes them, nor their assignments."),
    ("esps", "Enrollment Status Pages the role does not manage", "The role never changes or deletes them."),
    ("groups", "Groups the role does not manage", "The role never changes or deletes them."),
    ("devices", "Devices no site lists", "The role changes only the devices a site lists; these stay as they are."),
    ("settings", "Settings kept as they are", "Settings of managed objects that the role does not set; they keep their values."),
)


def export_md(tenant):
    notes = tenant.notes
    text = ("# Export of the Autopilot tenant\n\n"
            "Written by `intune.autopilot.export` from what the tenant holds; re-running the export rewrites this file. "
            "The inventory next to it (`hosts.yml`, `group_vars/`, `host_vars/`) is what the role "
            "`intune.autopilot.user_driven_join` needs to leave the tenant as it is. Check that first; it writes nothing:\n\n"
            "```bash\nansible-playbook -i hosts.yml intune.autopilot.user_driven_join --check --diff\n```\n\n"
            "It should report `changed=0`, except for what \"What the first run of the role changes\" lists below.\n\n")
    text += "## Sites\n\n"
    if tenant.sites:
        text += _table([(s["name"], s["tag"], s["group"].get("displayName"), s["profile"].get("displayName"),
                         len(s["devices"]), len(s["users"])) for s in tenant.sites],
                       ("site", "group tag", "device group", "deployment profile", "devices", "users")) + "\n"
    else:
        text += ("None: no Microsoft Entra join, user-driven deployment profile is assigned to a dynamic group whose rule "
                 "selects a group tag. The role manages one such profile and group per site (see below why each profile "
                 "is not one).\n\n")
    text += "Tenant-wide: the group of all Autopilot devices `%s`, the Enrollment Status Page `%s`.\n\n" % (
        tenant.tenant_group.get("displayName"), (tenant.esp or {}).get("displayName") or "(none yet)")
    for section, title, intro in SECTIONS:
        entries = notes.entries(section)
        if not entries:
            continue
        text += "## %s\n\n%s" % (title, intro + "\n\n" if intro else "")
        text += _table(entries, ("object", "reason")) + "\n"
    return text.rstrip("\n") + "\n"


def export_files(esps, profiles, groups, devices, site_names=None):
    """``{"files": {relative path: text}, "sites": [names], "notes": {section: count}}`` for the playbook."""
    tenant = Tenant(esps, profiles, groups, devices, site_names)
    files = {"hosts.yml": hosts_yml(tenant), "group_vars/%s.yml" % GROUP: group_vars_yml(tenant),
             "EXPORT.md": export_md(tenant)}
    for site in tenant.sites:
        files["host_vars/%s.yml" % site["name"]] = host_vars_yml(tenant, site)
    return {"files": files, "sites": [s["name"] for s in tenant.sites],
            "notes": dict((section, len(tenant.notes.entries(section))) for section in Notes.SECTIONS)}

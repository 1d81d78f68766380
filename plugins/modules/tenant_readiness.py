#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: tenant_readiness
short_description: Check what a run needs of the tenant, without writing anything
version_added: 0.2.0
description:
  - Checks that the app registration can do what the steps of a run need, before any of them writes, and returns a
    table of what is ready and what to fix. It never writes to the tenant.
  - The token - one is requested with the connection options, as every module of the collection does.
  - Every Microsoft Graph application permission the O(steps) need. Reads are probed with one C(GET ...?$top=1) each,
    so a read permission is C(ready) when Graph answers, and C(missing) when Graph answers 403. Writes cannot be probed
    without writing, so a write permission is judged by the token's C(roles) claim, which lists the application
    permissions granted to the app with admin consent.
  - Intune licensed and reachable - Microsoft documents no answer for a tenant without Intune; field reports show
    C(400 Request not applicable to target tenant.), and a 403 on an Intune read while the token holds the permission
    is reported as a possible missing licence too.
  - The playbook C(intune.autopilot.doctor) runs this module alone and prints the table; the role
    C(intune.autopilot.user_driven_join) runs it in its preflight.
author:
  - intune.autopilot contributors (@intune-autopilot)
extends_documentation_fragment:
  - intune.autopilot.graph_auth
  - intune.autopilot.attributes.info_module
  - intune.autopilot.attributes.action_group
options:
  steps:
    description:
      - The steps of the run to check, named as the tags of the role C(intune.autopilot.user_driven_join).
      - C(group) - the device groups (C(aad_group)); C(esp) - the Enrollment Status Page (C(intune_esp));
        C(esp_apps) - ESP apps given by name; C(profile) - the deployment profile (C(autopilot_profile));
        C(devices) - the device import (C(autopilot_device)); C(users) - users of devices, looked up and assigned.
    type: list
    elements: str
    choices: [group, esp, esp_apps, profile, devices, users]
    default: [group, esp, profile, devices, users]
notes:
  - "Graph application permissions: none of its own; it reports on the ones the O(steps) need."
  - The module returns C(changed=false) and does not fail when the tenant is not ready; check RV(ready).
seealso:
  - name: Access token claims reference (roles)
    description: The C(roles) claim of an app-only token lists the application permissions granted to the app.
    link: https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
  - name: Microsoft Graph permissions reference
    description: What each application permission grants.
    link: https://learn.microsoft.com/graph/permissions-reference
"""

EXAMPLES = r"""
- name: What the tenant lacks for the whole role
  intune.autopilot.tenant_readiness:
  register: readiness

- name: Show the table
  ansible.builtin.debug:
    msg: "{{ readiness.report }}"

- name: Only the steps that do not touch devices
  intune.autopilot.tenant_readiness:
    steps: [group, esp, profile]
"""

RETURN = r"""
ready:
  description: True when the token was issued, Intune answered and every permission is ready.
  returned: always
  type: bool
token_acquired:
  description: Whether a token was issued (false, every other check is skipped).
  returned: always
  type: bool
roles:
  description: The application permissions the token's C(roles) claim lists (null when the token shows none).
  returned: always
  type: list
  elements: str
  sample: ["DeviceManagementServiceConfig.ReadWrite.All", "Group.ReadWrite.All", "User.Read.All"]
checks:
  description: One entry per permission the steps need.
  returned: always
  type: list
  elements: dict
  contains:
    permission:
      description: The least privileged permission, as in the module documentation (several joined by C(or)).
      type: str
    steps:
      description: The steps that need it.
      type: list
      elements: str
    status:
      description: C(ready), C(missing), C(not licensed), C(error), or C(unknown) (a write, and no C(roles) claim).
      type: str
    detail:
      description: How it was checked, or what to fix.
      type: str
  sample: [{"permission": "Group.ReadWrite.All", "steps": ["group"], "status": "missing",
            "detail": "a write; the token's roles claim lacks it: grant Group.ReadWrite.All"}]
intune:
  description: C(ready), C(not licensed) or C(unknown), with the detail; null when no step reads Intune.
  returned: always
  type: dict
  sample: {"status": "ready", "detail": "Intune answered the reads of the run's steps"}
problems:
  description: What stops a run, one sentence each, naming the permission and the steps that need it.
  returned: always
  type: list
  elements: str
report:
  description: The table, one line per check.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_module import GraphModule
from ansible_collections.intune.autopilot.plugins.module_utils._graph_readiness import (
    STEP_NAMES, intune_status, judge, plan, problems, report, token_claims,
)


def probe(module, call):
    """None when Graph answers the read, else the error as a dict."""
    method, path, api = call
    try:
        module.client.request(method, path, api=api, params={"$top": "1"})
    except GraphError as exc:
        return {"status": exc.status, "code": exc.code, "message": exc.message}
    return None


def checks(rows):
    return [dict((k, row[k]) for k in ("permission", "steps", "status", "detail")) for row in rows]


def run(module):
    rows = plan(module.params["steps"])
    try:
        claims = token_claims(module.client.access_token()) or {}
    except GraphError as exc:
        for row in rows:
            row["status"], row["detail"] = "not checked", "no token"
        return dict(changed=False, ready=False, token_acquired=False, roles=None, checks=checks(rows), intune=None,
                    problems=["no token: %s" % exc.summary], report=report(("failed", exc.summary), rows))
    roles = claims.get("roles")
    reads = set(r["read"] for r in rows if r["read"])
    rows = judge(rows, None if roles is None else set(roles), dict((call, probe(module, call)) for call in sorted(reads)))
    found = problems(rows)
    intune = intune_status(rows)
    app = claims.get("appid") or claims.get("azp") or "?"
    token_line = ("ready", "issued for app %s in tenant %s" % (app, claims.get("tid") or "?"))
    return dict(changed=False, ready=not found and all(r["status"] == "ready" for r in rows), token_acquired=True,
                roles=sorted(roles) if roles is not None else None, checks=checks(rows),
                intune=dict(status=intune[0], detail=intune[1]) if intune else None,
                problems=found, report=report(token_line, rows))


def main():
    module = GraphModule(
        argument_spec=dict(steps=dict(type="list", elements="str", choices=STEP_NAMES,
                                      default=["group", "esp", "profile", "devices", "users"])),
        supports_check_mode=True,
    )
    module.exit_json(**module.run(lambda: run(module)))


if __name__ == "__main__":
    main()

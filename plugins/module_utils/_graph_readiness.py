# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a run needs of the tenant, checked without writing: the token, each Graph permission, Intune.

Internal to this collection; it may change in any release.

Each step of the role ``user_driven_join`` is listed here with the Graph calls it makes; the permission a call needs
comes from the one 403 table (``_graph_permissions.needed_permission``), so the permissions the readiness check asks
for and the ones a 403 names cannot drift apart. Reads are probed (one ``GET ...?$top=1`` each); writes cannot be
probed without writing, so they are judged by the token's ``roles`` claim, which lists the application permissions
granted to the app with admin consent (MicrosoftDocs/entra-docs
docs/identity-platform/access-token-claims-reference.md, ``roles``).

Intune not licensed: Microsoft documents no answer for it. Field reports show ``400 BadRequest`` with the message
``Request not applicable to target tenant.`` (KelvinTegelaar/CIPP-API
Modules/CIPPCore/Public/GraphHelper/Get-NormalizedError.ps1 translates it as "Required license not available"), and
Microsoft365DSC's Intune exports treat that message, a 401, and a 403 whose Intune error says ``Forbidden`` as "the
tenant is not registered for Intune" (microsoft/Microsoft365DSC Modules/Microsoft365DSC/DSCResources/MSFT_Intune*
Export-TargetResource). So a 403 on an Intune read while the token holds the permission is reported as a possible
missing licence, not as a missing permission.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json

from ansible_collections.intune.autopilot.plugins.module_utils._graph_permissions import needed_permission

# (step, what the step does, [(method, path, api), ...]): the calls of each step of the role, least privileged.
STEPS = (
    ("group", "device groups", [("GET", "/groups", "v1.0"), ("POST", "/groups", "v1.0"),
                                ("PATCH", "/groups/{id}", "v1.0")]),
    ("esp", "Enrollment Status Page", [("GET", "/deviceManagement/deviceEnrollmentConfigurations", "beta"),
                                       ("POST", "/deviceManagement/deviceEnrollmentConfigurations", "beta"),
                                       ("GET", "/groups", "v1.0")]),
    ("esp_apps", "ESP apps by name", [("GET", "/deviceAppManagement/mobileApps", "beta")]),
    ("profile", "deployment profile", [("GET", "/deviceManagement/windowsAutopilotDeploymentProfiles", "beta"),
                                       ("POST", "/deviceManagement/windowsAutopilotDeploymentProfiles", "beta"),
                                       ("GET", "/groups", "v1.0")]),
    ("devices", "device import", [("GET", "/deviceManagement/windowsAutopilotDeviceIdentities", "beta"),
                                  ("GET", "/deviceManagement/importedWindowsAutopilotDeviceIdentities", "beta"),
                                  ("POST", "/deviceManagement/importedWindowsAutopilotDeviceIdentities/import", "beta")]),
    ("users", "users of devices", [("GET", "/users", "v1.0"),
                                   ("POST", "/deviceManagement/windowsAutopilotDeviceIdentities/{id}/assignUserToDevice",
                                    "beta")]),
)
STEP_NAMES = [name for name, _what, _calls in STEPS]

NOT_LICENSED = "request not applicable to target tenant"

# Permissions that include another one: X.ReadWrite.All includes X.Read.All; the directory-wide ones include the
# group, user and device ones (the "higher privileged permissions" of group-list.md, user-get.md, device-get.md).
DIRECTORY = ("Group.", "GroupMember.", "User.", "Device.")


def granted_by(permission):
    """Every permission that grants ``permission`` (itself first)."""
    found = [permission]
    if permission.endswith(".Read.All"):
        found.append(permission.replace(".Read.All", ".ReadWrite.All"))
    if permission.startswith(DIRECTORY):
        found.append("Directory.ReadWrite.All")
        if permission.endswith(".Read.All"):
            found.append("Directory.Read.All")
    return found


def holds(roles, needed):
    """Does the set ``roles`` grant ``needed`` (a permission, or several joined by ' or ')?"""
    return any(p in roles for choice in needed.split(" or ") for p in granted_by(choice.strip()))


def token_claims(token):
    """The claims of a JWT access token (not verified: only read to report), or None when it is not a JWT."""
    parts = (token or "").split(".")
    if len(parts) != 3:
        return None
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")).decode("utf-8"))
    except (ValueError, TypeError, UnicodeError):
        return None
    return claims if isinstance(claims, dict) else None


def plan(steps):
    """One row per permission the steps need: ``{"permission", "steps", "read": (method, path, api) or None}``.

    ``read`` is the GET to probe it with (the first read of a step that needs it); writes have none.
    """
    rows = {}
    for name, _what, calls in STEPS:
        if name not in steps:
            continue
        for method, path, api in calls:
            permission = needed_permission(method, path)
            row = rows.setdefault(permission, {"permission": permission, "steps": [], "read": None})
            if name not in row["steps"]:
                row["steps"].append(name)
            if method == "GET" and row["read"] is None:
                row["read"] = (method, path, api)
    # "Group.Create or Group.ReadWrite.All" is implied when Group.ReadWrite.All is needed anyway.
    return [row for key, row in rows.items()
            if " or " not in key or not any(choice.strip() in rows for choice in key.split(" or "))]


def is_not_licensed(error):
    return error is not None and error.get("status") == 400 and NOT_LICENSED in (error.get("message") or "").lower()


def judge(rows, roles, probes):
    """Fill each row's ``status`` (ready, missing, unknown, error, not licensed) and ``detail``.

    ``roles``: the token's application permissions (None when the token does not show them). ``probes``:
    ``(method, path, api) -> None`` (answered) or an error dict ``{"status", "code", "message"}``.
    """
    for row in rows:
        held = None if roles is None else holds(roles, row["permission"])
        error = probes.get(row["read"]) if row["read"] else None
        where = "%s /%s%s" % (row["read"][0], row["read"][2], row["read"][1]) if row["read"] else None
        if row["read"] and error is None:
            row["status"], row["detail"] = "ready", "%s answered" % where
        elif row["read"] and is_not_licensed(error):
            row["status"], row["detail"] = "not licensed", "%s answered 400: %s" % (where, error.get("message"))
        elif row["read"] and error.get("status") == 403 and held:
            row["status"] = "not licensed"
            row["detail"] = ("%s answered 403 although the token holds %s: is the tenant licensed for Intune, with the "
                             "MDM authority set?" % (where, row["permission"]))
        elif row["read"] and error.get("status") == 403:
            row["status"], row["detail"] = "missing", "%s answered 403: grant %s" % (where, row["permission"])
        elif row["read"]:
            row["status"] = "error"
            row["detail"] = "%s answered %s %s: %s" % (where, error.get("status"), error.get("code"), error.get("message"))
        elif held is None:
            row["status"], row["detail"] = "unknown", "a write; the token does not list its permissions (no roles claim)"
        elif held:
            row["status"], row["detail"] = "ready", "a write; granted (the token's roles claim)"
        else:
            row["status"] = "missing"
            row["detail"] = "a write; the token's roles claim lacks it: grant %s" % row["permission"]
    return rows


def problems(rows):
    """The rows that stop a run, as sentences naming the permission and the steps that need it."""
    found = []
    for row in rows:
        steps = ", ".join(row["steps"])
        if row["status"] == "missing":
            found.append("the app lacks the Microsoft Graph application permission %s (with admin consent), which "
                         "step(s) %s need: %s" % (row["permission"], steps, row["detail"]))
        elif row["status"] == "not licensed":
            found.append("Intune does not answer for this tenant (step(s) %s): %s" % (steps, row["detail"]))
        elif row["status"] == "error":
            found.append("step(s) %s: %s" % (steps, row["detail"]))
    return found


def intune_status(rows):
    """``(status, detail)`` of Intune itself, from the rows of its reads (None when no step reads Intune)."""
    intune = [r for r in rows if r["read"] and r["read"][1].startswith("/device")]
    if not intune:
        return None
    for row in intune:
        if row["status"] == "not licensed":
            return "not licensed", row["detail"]
    if any(r["status"] == "ready" for r in intune):
        return "ready", "Intune answered the reads of the run's steps"
    return "unknown", "no Intune read was answered (see the permissions below)"


def report(token_line, rows):
    """The table an operator reads: one line per check, what is ready and what to fix."""
    table = [("check", "status", "steps", "how it was checked / what to fix"), ("token", token_line[0], "-", token_line[1])]
    intune = intune_status(rows)
    if intune:
        table.append(("Intune", intune[0], "-", intune[1]))
    table += [(r["permission"], r["status"], ", ".join(r["steps"]), r["detail"]) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(3)]
    return ["%-*s  %-*s  %-*s  %s" % (widths[0], a, widths[1], b, widths[2], c, d) for a, b, c, d in table]

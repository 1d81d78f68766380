# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Windows Autopilot deployment profile (Microsoft Entra join), declared once for autopilot_profile and
autopilot_profile_info.

Internal to this collection; it may change in any release.

Only ``#microsoft.graph.azureADWindowsAutopilotDeploymentProfile`` objects are the resource; hybrid join profiles are
never changed. They share the collection and its names, so a task that names one, where no Entra join profile has the
name, is refused before any write, naming it: creating a second profile with the same name would leave two profiles
that the portal, scripts and this module's name lookups can no longer tell apart (the portal does not refuse
duplicate names). ``_info`` returns them with ``entra_join_only: false`` (the export lists them).

Graph returns some settings twice, under a deprecated name and its replacement (``language`` / ``locale``,
``outOfBoxExperienceSettings`` / ``outOfBoxExperienceSetting``, ``extractHardwareHash`` /
``hardwareHashExtractionEnabled``, ``enableWhiteGlove`` / ``preprovisioningAllowed``): the module writes the current
names and reads either. What is refused is in _autopilot_names (device name template, locale, profile name
characters), each only when the module would send the value, so a profile that already holds it is still managed.
A self-deploying (``shared``) profile may come back with or without a ``userType`` (Graph's own examples carry one;
KelvinTegelaar/CIPP-API#1923 saw it missing): it is compared when Graph returns it and ignored when it does not.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools

from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_names import (
    MAX_PROFILE_NAME, PROFILE_NAME_CHARACTERS, locale_problem, normalize_locale, profile_name_problem,
    profile_name_suggestion, template_problem)
from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import EngineError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import GraphResource, Prop, Relationship
from ansible_collections.intune.autopilot.plugins.module_utils import _graph_assignments as targets

PATH = "/deviceManagement/windowsAutopilotDeploymentProfiles"
AAD_TYPE = "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile"
OOBE = "outOfBoxExperienceSetting"

# option suboption -> current Graph name (outOfBoxExperienceSetting, beta resource page
# intune-enrollment-outofboxexperiencesetting.md)
OOBE_OPTIONS = (
    ("privacy_settings_hidden", "privacySettingsHidden"),
    ("eula_hidden", "eulaHidden"),
    ("user_type", "userType"),
    ("device_usage_type", "deviceUsageType"),
    ("keyboard_selection_page_skipped", "keyboardSelectionPageSkipped"),
    ("escape_link_hidden", "escapeLinkHidden"),
)
# deprecated outOfBoxExperienceSettings name -> current name (intune-enrollment-outofboxexperiencesettings.md)
OOBE_DEPRECATED = {
    "hidePrivacySettings": "privacySettingsHidden",
    "hideEULA": "eulaHidden",
    "userType": "userType",
    "deviceUsageType": "deviceUsageType",
    "skipKeyboardSelectionPage": "keyboardSelectionPageSkipped",
    "hideEscapeLink": "escapeLinkHidden",
}
# The tutorial (memdocs autopilot/tutorial/user-driven/azure-ad-join-autopilot-profile.md): user-driven, EULA and
# privacy hidden, change account options hidden, standard user (the tutorial allows either), keyboard configured
# automatically. Sent on creation for the suboptions the user omits.
TUTORIAL_OOBE = {
    "privacySettingsHidden": True,
    "eulaHidden": True,
    "userType": "standard",
    "deviceUsageType": "singleUser",
    "keyboardSelectionPageSkipped": True,
    "escapeLinkHidden": True,
}
DEVICE_TYPES = ["windowsPc", "holoLens", "surfaceHub2", "surfaceHub2S", "virtualMachine"]
MAX_DESCRIPTION = 1500


def is_entra_profile(obj):
    return (obj.get("@odata.type") or "").lstrip("#").lower() == AAD_TYPE.lstrip("#").lower()


def _first(obj, current, deprecated, default=None):
    """The current property when Graph returns it, else the deprecated one, else the documented default."""
    value = obj.get(current)
    if value is None:
        value = obj.get(deprecated)
    return default if value is None else value


def read_oobe(obj):
    """The OOBE block under the current names: the current block, completed from the deprecated one."""
    block = {}
    for old, new in OOBE_DEPRECATED.items():
        value = (obj.get("outOfBoxExperienceSettings") or {}).get(old)
        if value is not None:
            block[new] = value
    for key, value in (obj.get(OOBE) or {}).items():
        if not key.startswith("@") and value is not None:
            block[key] = value
    return block


class OobeProp(Prop):
    """The OOBE block: compared on the suboptions set; the ``userType`` of a shared (self-deploying) profile only when
    Graph returns one (see the module docstring)."""

    def equal(self, want, have):
        have = have or {}
        shared = (want.get("deviceUsageType") or have.get("deviceUsageType")) == "shared"
        return all(have.get(k) == v for k, v in want.items()
                   if v is not None and not (k == "userType" and shared and have.get("userType") is None))


PROPS = [
    Prop("description", "description", kind="text", check=lambda v: "at most %d characters are allowed (got %d)." % (
        MAX_DESCRIPTION, len(v)) if len(v) > MAX_DESCRIPTION else None),
    Prop("locale", "locale", kind="ci", read=lambda o: normalize_locale(_first(o, "locale", "language")),
         check=locale_problem),
    Prop("device_name_template", "deviceNameTemplate", read=lambda o: o.get("deviceNameTemplate") or "",
         check=template_problem),
    Prop("hardware_hash_extraction_enabled", "hardwareHashExtractionEnabled",
         read=lambda o: _first(o, "hardwareHashExtractionEnabled", "extractHardwareHash", False)),
    Prop("preprovisioning_allowed", "preprovisioningAllowed",
         read=lambda o: _first(o, "preprovisioningAllowed", "enableWhiteGlove", False)),
    Prop("device_type", "deviceType", read=lambda o: o.get("deviceType") or "windowsPc"),
    OobeProp("out_of_box_experience_setting", OOBE, keys=OOBE_OPTIONS, read=read_oobe),
    Prop("scope_tags", "roleScopeTagIds", kind="set", resolve="scope tag"),
]


def other_kinds(ctx, name):
    """The profiles of other kinds (hybrid join) that carry ``name``, compared without case as the lookup does."""
    wanted = (name or "").lower()
    return [p for p in ctx.listing() if not is_entra_profile(p) and (p.get("displayName") or "").lower() == wanted]


def check(ctx, plan):
    """A name the module sends (a create, or a rename with ``id``) must not be a hybrid join profile's (module
    docstring) and must be one Intune takes: at most 200 characters (the Graph resource page) and none of the
    characters it answers with a bare 500 (field reports, _autopilot_names)."""
    if not plan.present or not plan.sends("displayName"):
        return
    name = plan.value("displayName") or ""
    for other in other_kinds(ctx, name):
        ctx.problems.add("display_name: '%s' is the name of a Microsoft Entra hybrid join profile (id %s), which "
                         "autopilot_profile does not manage; this task would make a second profile with that name beside "
                         "it. Use another name, or rename or delete the hybrid join profile in Intune." % (name, other["id"]))
    bad = profile_name_problem(name)
    if not name.strip() or len(name) > MAX_PROFILE_NAME:
        ctx.problems.add("display_name: a name of 1 to %d characters is required (got %d)." % (MAX_PROFILE_NAME, len(name)))
    elif bad:
        ctx.problems.add("display_name: '%s' contains %s, which Intune refuses in a deployment profile name (it answers "
                         "with an HTTP 500 that gives no reason). Use only %s; for example '%s'."
                         % (name, bad, PROFILE_NAME_CHARACTERS, profile_name_suggestion(name)))


def defaults(ctx):
    """The create body before the options the user set: the tutorial's profile."""
    body = {
        "displayName": ctx.params.get("display_name"),
        "locale": "os-default",
        "deviceType": "windowsPc",
        "hardwareHashExtractionEnabled": False,
        "preprovisioningAllowed": False,
        OOBE: dict(TUTORIAL_OOBE),
    }
    if (ctx.params.get("out_of_box_experience_setting") or {}).get("device_usage_type") == "shared":
        del body[OOBE]["userType"]   # self-deploying: no user to make a standard user or an administrator
    return body


class ProfileAssignments(Relationship):
    """Group assignments, ``/windowsAutopilotDeploymentProfiles/{id}/assignments`` (POST 201, DELETE 204 by id;
    beta pages intune-enrollment-windowsautopilotdeploymentprofileassignment-create/-delete and the support article
    cannot-delete-autopilot-deployment-profile.md, which uses this path and ids ``{profileId}_{groupId}``).

    Keys are ``(kind, groupId)`` from _graph_assignments. ``apply`` creates every missing target, then deletes every
    extra one, so a profile is never left without its groups during a change. A target whose key stays but whose
    value differs (an assignment filter set in the portal) is deleted and re-created, the delete first because the
    service keys assignments by profile and group. Autopilot profiles take groups and all devices, no filters
    (memdocs intune/fundamentals/filters-supported-workloads.md does not list them)."""

    name = "assignments"
    clear_before_delete = True

    def __init__(self):
        self.ids = {}

    def desired(self, ctx):
        return targets.desired(ctx, allow_all_users=False, allow_filters=False)

    def current(self, ctx, obj):
        if not obj.get("id"):
            return {}
        values, self.ids = targets.current(ctx.client.list("%s/%s/assignments" % (PATH, obj["id"]), api="beta"))
        return values

    def describe(self, ctx, items, lenient=False):
        return targets.describe_all(ctx.resolver, items, lenient)

    def apply(self, ctx, obj, desired, current):
        profile_id = obj["id"]
        name = obj.get("displayName") or profile_id
        changed = [k for k in desired if k in current and desired[k] != current[k]]
        for key in changed:
            self._delete(ctx, profile_id, name, key)
        for key in sorted((k for k in desired if k not in current or k in changed), key=str):
            body = {"@odata.type": "#microsoft.graph.windowsAutopilotDeploymentProfileAssignment",
                    "target": targets.to_target(key, desired[key])}
            try:
                targets.retry_new_groups(ctx, [key], "profile '%s'" % name, functools.partial(
                    ctx.client.post, "%s/%s/assignments" % (PATH, profile_id), json=body, api="beta"))
            except GraphError as exc:
                raise EngineError("Failed to assign profile '%s' to '%s': %s" % (name, targets.label(ctx.resolver, key), exc),
                                  **exc.to_result())
        for key in sorted((k for k in current if k not in desired), key=str):
            self._delete(ctx, profile_id, name, key)

    def _delete(self, ctx, profile_id, name, key):
        try:
            ctx.client.delete("%s/%s/assignments/%s" % (PATH, profile_id, self.ids.get(key)), api="beta", missing_ok=True)
        except GraphError as exc:
            raise EngineError("Failed to unassign profile '%s' from '%s': %s" % (name, targets.label(ctx.resolver, key), exc),
                              **exc.to_result())


def resource(entra_join_only=True):
    """The Entra join profiles autopilot_profile manages, or (``entra_join_only`` false, autopilot_profile_info) every
    deployment profile of the tenant, whatever its join type."""
    return GraphResource("profile", PATH, find_by="list", match=is_entra_profile if entra_join_only else None,
                         odata_type=AAD_TYPE, defaults=defaults, props=PROPS, relationships=[ProfileAssignments()],
                         check=check)

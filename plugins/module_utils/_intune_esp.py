# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Enrollment Status Page (ESP) resource, declared once for intune_esp and intune_esp_info.

Internal to this collection; it may change in any release.

ESPs live among all enrollment configurations (Graph beta deviceEnrollmentConfigurations), so the collection is
listed (once per run) and the ESPs kept. A real tenant's default ESP carries the id
"{tenantId}_DefaultWindows10EnrollmentCompletionPageConfiguration" and may report deviceEnrollmentConfigurationType
"windows10EnrollmentCompletionPageConfiguration" (field observation), so the id suffix is checked as well as the type.

What is refused, and why (each only when the module would send the value; a value an ESP already holds is kept):
``customErrorMessage`` over 10,000 characters (the Graph resource page: "Max length is 10000"); more than 100
``selectedMobileAppIds`` (memdocs windows-enrollment-status.md: "You can choose up to 100 apps"); an empty
``roleScopeTagIds`` (memdocs fundamentals/scope-tags.md: "The default scope tag is automatically added to all untagged
objects", so an empty list would never converge); a negative
timeout and a priority below 1 or past the last position (the portal numbers ESPs 1..n; a priority that cannot be
reached would be reported as a change on every run). Graph documents no lower bound for
``installProgressTimeoutInMinutes`` and real default ESPs hold 0 while the page is hidden, so 0 is accepted.
The portal shows some settings only behind others ("Show app and profile configuration progress", "Block device use
until all apps and profiles are installed", blocking apps for the technician phase); Graph takes every combination
and tenants hold them, so a task that asks for a combination the portal cannot show only gets a warning.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import EngineError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import GraphResource, Prop, Relationship
from ansible_collections.intune.autopilot.plugins.module_utils import _graph_assignments as targets

PATH = "/deviceManagement/deviceEnrollmentConfigurations"
ESP_TYPE = "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration"
ESP_TYPE_NAME = "windows10EnrollmentCompletionPageConfiguration"
DEFAULT_TYPE = "defaultWindows10EnrollmentCompletionPageConfiguration"
DEFAULT_SUFFIX = "_DefaultWindows10EnrollmentCompletionPageConfiguration"
MAX_MESSAGE = 10000
MAX_APPS = 100
NOT_FOR_DEFAULT = ("display_name", "id", "description", "priority", "assignments", "scope_tags")

# Graph properties the portal shows only once "Show app and profile configuration progress" is Yes ...
NEEDS_PROGRESS = (
    "installProgressTimeoutInMinutes", "customErrorMessage", "allowLogCollectionOnInstallFailure",
    "trackInstallProgressForAutopilotOnly", "disableUserStatusTrackingAfterFirstUser", "installQualityUpdates",
    "blockDeviceSetupRetryByUser",
)
# ... and once "Block device use until all apps and profiles are installed" is Yes (blockDeviceSetupRetryByUser false).
NEEDS_BLOCKING = (
    "allowDeviceResetOnInstallFailure", "allowDeviceUseOnInstallFailure", "selectedMobileAppIds",
    "allowNonBlockingAppInstallation",
)
PORTAL_RULES = (
    ("showInstallationProgress", True, "'Show app and profile configuration progress' is Yes", NEEDS_PROGRESS + NEEDS_BLOCKING),
    ("blockDeviceSetupRetryByUser", False, "'Block device use until all apps and profiles are installed' is Yes",
     NEEDS_BLOCKING),
)


def is_default(item):
    return (item.get("deviceEnrollmentConfigurationType") == DEFAULT_TYPE
            or str(item.get("id") or "").endswith(DEFAULT_SUFFIX))


def is_esp(item):
    return ((item.get("@odata.type") or "").lstrip("#").rsplit(".", 1)[-1] == ESP_TYPE_NAME
            or item.get("deviceEnrollmentConfigurationType") in (ESP_TYPE_NAME, DEFAULT_TYPE))


def is_custom_esp(item):
    return is_esp(item) and not is_default(item)


def validate(ctx):
    """The option rules of the default ESP and of the natural key (module semantics, no Graph call)."""
    params, add = ctx.params, ctx.problems.add
    if params.get("default"):
        if params.get("state") == "absent":
            add("state: the default ESP cannot be deleted; only its settings can be changed.")
        given = [o for o in NOT_FOR_DEFAULT if params.get(o) is not None]
        if given:
            add("%s: not allowed with default=true; the default ESP's name, description, priority, scope tags and "
                "assignments belong to the service. Only its settings can be managed." % ", ".join(given))
    elif not params.get("display_name") and not params.get("id"):
        add("display_name: one of display_name, id or default=true is required.")
    if params.get("default") is False:
        add("default: only true selects the default ESP; omit it to manage a profile of yours.")
    if params.get("id") and str(params["id"]).endswith(DEFAULT_SUFFIX):
        add("id: '%s' is the built-in default ESP; use default=true to manage its settings." % params["id"])


def find_default(ctx):
    found = [i for i in ctx.collection() if is_default(i)]
    if len(found) != 1:
        raise EngineError("default: expected one built-in default ESP, found %d (ids: %s)."
                          % (len(found), ", ".join(sorted(i.get("id", "?") for i in found)) or "none"))
    return found[0]


def _engaged(name, value):
    """Whether a dependent property is set to a value the portal only offers behind its parent setting."""
    if name == "blockDeviceSetupRetryByUser":
        return value is False   # false = portal "Block device use ...: Yes"
    return value if isinstance(value, bool) else value is not None


def check(ctx, plan):
    """The checks that need the ESP as it is: the priority range (refused) and the portal's rules (warnings)."""
    if not plan.present:
        return

    def option(name):
        return ctx.resource.prop(name).option

    if plan.sends("priority") and not ctx.params.get("default"):
        last = len(ctx.collection()) + (0 if plan.current else 1)
        if plan.value("priority") > last:
            ctx.problems.add("priority: %d is past the last position; there %s %d ESP profile%s (the default ESP is not "
                             "counted), so the priority must be between 1 and %d." % (
                                 plan.value("priority"), "is" if last == 1 else "are", last, "" if last == 1 else "s", last))
    for parent, on, portal, dependents in PORTAL_RULES:
        engaged = [n for n in dependents if n in plan.desired and _engaged(n, plan.desired[n])]
        if plan.value(parent) is not on and engaged and any(plan.sends(n) for n in engaged + [parent]):
            ctx.warn("%s: the portal offers %s only when %s (%s: %s). Graph accepts the combination and it is written as "
                     "asked, but the portal will not show it." % (
                         ", ".join(option(n) for n in engaged), "this setting" if len(engaged) == 1 else "these settings",
                         portal, option(parent), str(on).lower()))
    if plan.value("allowNonBlockingAppInstallation") is True and not plan.value("selectedMobileAppIds") and (
            plan.sends("allowNonBlockingAppInstallation") or plan.sends("selectedMobileAppIds")):
        ctx.warn("allow_non_blocking_app_installation: the portal offers 'Only fail selected blocking apps in technician "
                 "phase' only when blocking apps are selected (selected_apps); Graph accepts it without them.")


def set_priority(ctx, obj, value):
    """POST .../setPriority {"priority": n}, 204 (intune-shared-deviceenrollmentconfiguration-setpriority)."""
    if obj.get("priority") == value:
        return
    path = "%s/%s/setPriority" % (PATH, obj["id"])

    def probe():
        # After a 5xx the action may have been applied: look before sending it again.
        now = ctx.client.get_or_none("%s/%s" % (PATH, obj["id"]), api="beta") or {}
        return now if now.get("priority") == value else None

    try:
        ctx.client.post(path, json={"priority": value}, api="beta", probe=probe)
    except GraphError as exc:
        raise EngineError("Failed to set the priority of esp '%s' to %d: %s" % (obj.get("displayName"), value, exc),
                          **exc.to_result())


class Assignments(Relationship):
    """The ESP's assignments: read from ``.../assignments`` (paged), written as one complete set through the ``assign``
    action (intune-onboarding-deviceenrollmentconfiguration-assign; body ``{"enrollmentConfigurationAssignments": [...]}``,
    204). Whether ``assign`` replaces or appends is not documented; sending the complete set is right either way for a
    replace, and the emulator replaces, as the portal's assignment page does."""

    name = "assignments"

    def desired(self, ctx):
        return targets.desired(ctx)

    def current(self, ctx, obj):
        return targets.current(ctx.client.list("%s/%s/assignments" % (PATH, obj["id"]), api="beta"))[0]

    def describe(self, ctx, items, lenient=False):
        return targets.describe_all(ctx.resolver, items, lenient)

    def apply(self, ctx, obj, desired, current):
        name = obj.get("displayName")
        body = {"enrollmentConfigurationAssignments": [
            {"@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment", "target": targets.to_target(k, v)}
            for k, v in sorted(desired.items(), key=lambda kv: (kv[0][0], str(kv[0][1])))]}

        def write():
            # Sending the same complete set twice has the same effect: safe to repeat after a 5xx.
            ctx.client.post("%s/%s/assign" % (PATH, obj["id"]), json=body, api="beta", probe=lambda: None)

        try:
            targets.retry_new_groups(ctx, list(desired), "esp '%s'" % name, write)
        except GraphError as exc:
            raise EngineError("Failed to assign esp '%s': %s" % (name, exc), **exc.to_result())
        # The assign page does not say that the set replaces the current assignments (it is what the portal's
        # "Assignments" page does, and what the service does as far as reported). Read them back so that a
        # service that appended instead is reported here, not a silent extra target.
        after = self.current(ctx, obj)
        if after != desired:
            # A warning, not an error: how soon the service lists new assignments is not documented either.
            ctx.warn("After the assign action Intune reports the assignments of esp '%s' as %s; %s was sent. If the next "
                     "run reports the same change again, check them in the portal."
                     % (name, self.describe(ctx, after), self.describe(ctx, desired)))


def _at_most(limit, what):
    return lambda value: "at most %d %s are allowed (got %d)." % (limit, what, len(value)) if len(value) > limit else None


PROPS = [
    # The name is declared: sent on create, and compared exactly, so a change of case is applied (a rename with id).
    Prop("display_name", "displayName"),
    Prop("description", "description", kind="text"),
    Prop("show_installation_progress", "showInstallationProgress"),
    Prop("install_progress_timeout_in_minutes", "installProgressTimeoutInMinutes",
         check=lambda v: "a number of minutes cannot be negative (got %d)." % v if v < 0 else None),
    Prop("custom_error_message", "customErrorMessage", check=_at_most(MAX_MESSAGE, "characters")),
    Prop("allow_log_collection_on_install_failure", "allowLogCollectionOnInstallFailure"),
    Prop("track_install_progress_for_autopilot_only", "trackInstallProgressForAutopilotOnly"),
    Prop("disable_user_status_tracking_after_first_user", "disableUserStatusTrackingAfterFirstUser"),
    Prop("install_quality_updates", "installQualityUpdates"),
    Prop("block_device_setup_retry_by_user", "blockDeviceSetupRetryByUser"),
    Prop("allow_device_reset_on_install_failure", "allowDeviceResetOnInstallFailure"),
    Prop("allow_device_use_on_install_failure", "allowDeviceUseOnInstallFailure"),
    Prop("allow_non_blocking_app_installation", "allowNonBlockingAppInstallation"),
    Prop("selected_apps", "selectedMobileAppIds", kind="set", resolve="app", check=_at_most(MAX_APPS, "apps")),
    Prop("scope_tags", "roleScopeTagIds", kind="set", resolve="scope tag",
         check=lambda v: None if v else "give at least one scope tag ('Default' is the built-in one)."),
    Prop("priority", "priority", writer=set_priority,
         check=lambda v: "must be 1 or greater (1 is the highest), got %d." % v if v < 1 else None),
]


def resource(include_default=False):
    """The ESP declaration: the profiles of the tenant's admins, or (``include_default``) every ESP, the built-in
    default one included, which ``find`` then selects (intune_esp with default=true, and intune_esp_info)."""
    return GraphResource("esp", PATH, find_by="list", match=is_esp if include_default else is_custom_esp,
                         find=find_default if include_default else None, odata_type=ESP_TYPE, props=PROPS,
                         relationships=[] if include_default else [Assignments()], validate=validate, check=check)

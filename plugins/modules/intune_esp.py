#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: intune_esp
short_description: Manage a Windows Enrollment Status Page (ESP) profile in Intune
version_added: 0.1.0
description:
  - Creates, updates or deletes one Intune Enrollment Status Page profile, the Microsoft Graph beta resource
    C(#microsoft.graph.windows10EnrollmentCompletionPageConfiguration) in C(/deviceManagement/deviceEnrollmentConfigurations),
    found by its display name (or its id). This is step one of Microsoft's "Windows Autopilot user-driven Microsoft Entra
    join" tutorial ("Configure and assign Autopilot Enrollment Status Page").
  - Graph keeps every kind of enrollment configuration in one collection and does not document a type filter, so the
    module lists the collection and keeps the ESP profiles. A name that more than one ESP profile carries is an error
    that lists their ids; pass O(id) to pick one.
  - The built-in default ESP (B(All users and all devices)) is never found by name, so a profile of yours can never
    silently turn into it. Its settings can be managed explicitly with O(default=true), as the portal's
    B(Edit default profile) does; it is never renamed, re-prioritised, re-assigned or deleted.
  - Only the options you set are compared and changed; a change of settings is one PATCH with only the changed
    properties. O(selected_apps), O(scope_tags) and O(assignments) are complete lists compared without order.
    O(priority) is set through C(setPriority) only when it differs, and O(assignments) are sent as one complete set
    through C(assign) only when the set differs.
  - "Portal setting -> option (Graph property). Microsoft's Graph pages do not name the portal settings; the mapping
    below comes from the Graph property descriptions (api-reference/beta/resources/intune-onboarding-windows10enrollmentcompletionpageconfiguration.md)
    read against the portal pages (MicrosoftDocs/memdocs intune/intune-service/enrollment/windows-enrollment-status.md and
    autopilot/tutorial/includes/configure-and-assign-esp.md); where a step is not documented the field observation is named."
  - "B(Show app and profile configuration progress) -> O(show_installation_progress) (C(showInstallationProgress))."
  - "B(Show an error when installation takes longer than specified number of minutes) -> O(install_progress_timeout_in_minutes)
    (C(installProgressTimeoutInMinutes))."
  - "B(Show custom message when time limit or error occur) -> O(custom_error_message) (C(customErrorMessage)). B(No) in the portal
    is the default message, so leaving the option out keeps whatever message is set."
  - "B(Turn on log collection and diagnostics page for end users) -> O(allow_log_collection_on_install_failure)
    (C(allowLogCollectionOnInstallFailure))."
  - "B(Only show page to devices provisioned by out-of-box experience (OOBE)) -> O(track_install_progress_for_autopilot_only)
    (C(trackInstallProgressForAutopilotOnly): progress tracked only for Autopilot enrollment). The setting was added to keep
    the page away from non-OOBE enrolments such as co-managed devices (MicrosoftDocs/IntuneDocs#3522). CONTRADICTION: the
    current portal page describes its effect as first-user-only, which is the Graph description of
    C(disableUserStatusTrackingAfterFirstUser); one third-party tool (terraform-provider-microsoft365) writes that property for
    this label. Set both options when you want both effects."
  - "B(Install Windows quality updates (might restart the device)) -> O(install_quality_updates) (C(installQualityUpdates)).
    The portal defaults it to B(Yes) for new profiles; Graph documents no default, so set it explicitly."
  - "B(Block device use until all apps and profiles are installed) -> O(block_device_setup_retry_by_user) B(inverted):
    portal B(Yes) is V(false), portal B(No) is V(true). Graph has no property of that name; the portal's B(No) hides the
    options that B(Yes) unlocks, and tools that manage the ESP write C(blockDeviceSetupRetryByUser=true) for it (field
    observation: Microsoft365DSC and CIPP; a fresh tenant's default ESP reads C(showInstallationProgress=false),
    C(blockDeviceSetupRetryByUser=true))."
  - "B(Allow users to reset device if installation error occurs) -> O(allow_device_reset_on_install_failure)
    (C(allowDeviceResetOnInstallFailure))."
  - "B(Allow users to use device if installation error occurs) -> O(allow_device_use_on_install_failure)
    (C(allowDeviceUseOnInstallFailure))."
  - "B(Block device use until these required apps are installed if they are assigned to the user/device): B(All) ->
    O(selected_apps=[]), B(Selected) -> the apps in O(selected_apps) (C(selectedMobileAppIds))."
  - "B(Only fail selected blocking apps in technician phase) -> O(allow_non_blocking_app_installation)
    (C(allowNonBlockingAppInstallation))."
  - "B(Name), B(Description), B(Scope tags), B(Assignments) and the drag-and-drop order -> O(display_name), O(description),
    O(scope_tags), O(assignments), O(priority)."
  - "The portal only offers some settings together, and this module refuses the other combinations before any call,
    naming the option: O(install_progress_timeout_in_minutes), O(custom_error_message), O(allow_log_collection_on_install_failure),
    O(track_install_progress_for_autopilot_only), O(disable_user_status_tracking_after_first_user), O(install_quality_updates)
    and O(block_device_setup_retry_by_user=false) need O(show_installation_progress=true);
    O(allow_device_reset_on_install_failure), O(allow_device_use_on_install_failure), O(selected_apps) and
    O(allow_non_blocking_app_installation) need O(block_device_setup_retry_by_user=false) (portal B(Block device use) B(Yes));
    O(allow_non_blocking_app_installation=true) needs at least one app in O(selected_apps). A parent setting the task
    leaves out counts with the value the ESP has (one read, before any write), so changing only a dependent setting of an
    ESP whose parent setting is already on needs no restating. Setting a dependent boolean to its off value (V(false), or
    V(true) for O(block_device_setup_retry_by_user)) is always allowed."
author:
  - intune.autopilot contributors (@intune-autopilot)
extends_documentation_fragment:
  - intune.autopilot.graph_auth
  - intune.autopilot.assignments
  - intune.autopilot.check_mode
  - intune.autopilot.attributes
  - intune.autopilot.attributes.action_group
options:
  display_name:
    description:
      - The profile's name (portal B(Name)), its natural key. Required unless O(id) or O(default) is given.
      - With O(id), the name to give the profile.
    type: str
    aliases: [name]
  id:
    description:
      - The profile's id. When set, the profile is found by id and O(display_name) renames it.
    type: str
  default:
    description:
      - Manage the settings of the built-in default ESP (B(All users and all devices)) instead of a profile of yours.
      - Only the settings options are allowed with it; its name, description, priority, scope tags and assignments are
        the service's, and it cannot be deleted.
    type: bool
  description:
    description: The profile's description (portal B(Description)).
    type: str
  show_installation_progress:
    description:
      - Portal B(Show app and profile configuration progress). V(false) hides the page during device setup.
    type: bool
  install_progress_timeout_in_minutes:
    description:
      - Portal B(Show an error when installation takes longer than specified number of minutes); a whole number of
        minutes, at least 1. The portal's default is 60.
    type: int
  custom_error_message:
    description:
      - Portal B(Show custom message when time limit or error occur), the text shown on a time-out or an error
        (at most 10,000 characters).
      - Leave it out to keep the current message. The portal's default message is
        C(Setup could not be completed. Please try again or contact your support person for help.)
    type: str
  allow_log_collection_on_install_failure:
    description: Portal B(Turn on log collection and diagnostics page for end users).
    type: bool
  track_install_progress_for_autopilot_only:
    description:
      - Portal B(Only show page to devices provisioned by out-of-box experience (OOBE)); Graph "installation progress is
        tracked for only Autopilot enrollment scenarios". See the mapping above for the contradiction in Microsoft's pages.
    type: bool
  disable_user_status_tracking_after_first_user:
    description:
      - Graph "disables showing installation progress for first user post enrollment" (C(disableUserStatusTrackingAfterFirstUser)).
      - The current portal page describes B(Only show page to devices provisioned by OOBE) with this effect (page shown to the
        first user only); see the mapping above.
    type: bool
  install_quality_updates:
    description: Portal B(Install Windows quality updates (might restart the device)).
    type: bool
  block_device_setup_retry_by_user:
    description:
      - B(Inverted) portal B(Block device use until all apps and profiles are installed) - V(false) is the portal's B(Yes)
        (users cannot leave the page until setup is done, which unlocks the reset, use and app options), V(true) is B(No).
      - Graph "when TRUE, blocks user from retrying the setup on installation failure".
    type: bool
  allow_device_reset_on_install_failure:
    description: Portal B(Allow users to reset device if installation error occurs).
    type: bool
  allow_device_use_on_install_failure:
    description: Portal B(Allow users to use device if installation error occurs).
    type: bool
  allow_non_blocking_app_installation:
    description:
      - Portal B(Only fail selected blocking apps in technician phase) (pre-provisioned deployments).
    type: bool
  selected_apps:
    description:
      - Portal B(Block device use until these required apps are installed if they are assigned to the user/device),
        the complete list of apps to wait for (B(Selected)), at most 100; an empty list is B(All).
      - Each entry is an app's display name or id in C(deviceAppManagement/mobileApps) (all pages are read). A name that
        matches no app, or several apps (the message lists their types and ids), is an error; give the id then.
    type: list
    elements: str
  scope_tags:
    description:
      - The complete list of scope tags (portal B(Scope tags)) by display name or id; C(Default) is the built-in tag C(0).
    type: list
    elements: str
  priority:
    description:
      - The profile's position among the ESP profiles, 1 being the highest (the portal's drag-and-drop order).
      - Set through the C(setPriority) action only when it differs. Must be between 1 and the number of ESP profiles
        (the default ESP is not counted).
    type: int
  assignments:
    description:
      - Sent as one complete set through the C(assign) action, only when it differs from the current set.
      - The Autopilot tutorial assigns the ESP to the device group. The portal offers only filters whose rules use
        C(osVersion), C(operatingSystemSKU), C(enrollmentProfileName), C(model), C(manufacturer) or C(deviceOwnership)
        for an ESP; the service, not this module, decides about others.
  state:
    description: Whether the profile should exist.
    type: str
    choices: [present, absent]
    default: present
notes:
  - "Graph application permissions: C(DeviceManagementServiceConfig.ReadWrite.All) for the profile, C(assign) and C(setPriority)
    (newer pages also accept C(DeviceManagementConfiguration.ReadWrite.All), but not for delete); C(DeviceManagementApps.Read.All)
    to resolve O(selected_apps) and show their names (intune-shared-mobileapp-list); C(DeviceManagementRBAC.Read.All) for
    O(scope_tags) (intune-rbac-rolescopetag-get, which also lists C(DeviceManagementConfiguration.Read.All));
    C(Group.Read.All) to resolve groups; C(DeviceManagementConfiguration.Read.All) for assignment filters (the filter list page
    does not show its table in the stored docs; Microsoft365DSC uses this permission)."
  - The profile is returned as Graph returns it (camelCase keys), without C(@odata.context).
  - In check mode, a group or filter that does not exist yet (an earlier task would create it) is reported with a warning;
    apps and scope tags must exist.
seealso:
  - module: intune.autopilot.intune_esp_info
  - name: Set up the Enrollment Status Page
    description: The portal settings this module writes.
    link: https://learn.microsoft.com/intune/intune-service/enrollment/windows-enrollment-status
  - name: windows10EnrollmentCompletionPageConfiguration resource type
    description: The Graph resource.
    link: https://learn.microsoft.com/graph/api/resources/intune-onboarding-windows10enrollmentcompletionpageconfiguration?view=graph-rest-beta
"""

EXAMPLES = r"""
# Group, app and scope tag names below are examples: use your tenant's. Assigned groups must exist first
# (intune.autopilot.aad_group creates them).
- name: The ESP of the Autopilot tutorial, assigned to the Autopilot device group
  intune.autopilot.intune_esp:
    display_name: Autopilot ESP
    description: Shown during Windows Autopilot user-driven Entra join
    show_installation_progress: true
    install_progress_timeout_in_minutes: 90
    custom_error_message: Setup could not be completed. Call the service desk on 1234.
    allow_log_collection_on_install_failure: true
    track_install_progress_for_autopilot_only: true
    install_quality_updates: true
    block_device_setup_retry_by_user: false   # portal "Block device use until all apps and profiles are installed: Yes"
    allow_device_reset_on_install_failure: true
    allow_device_use_on_install_failure: false
    selected_apps:
      - Microsoft 365 Apps for Windows 10 and later
      - Contoso VPN Client
    assignments:
      - group: Autopilot devices
      - group: Autopilot lab devices
        exclude: true
    scope_tags: [Default]
    priority: 1

- name: Wait for all assigned apps and filter the assignment to Windows 11
  intune.autopilot.intune_esp:
    name: Autopilot ESP - Windows 11
    show_installation_progress: true
    block_device_setup_retry_by_user: false
    selected_apps: []
    assignments:
      - group: Autopilot devices
        filter: Windows 11 devices
        filter_mode: include

- name: Show progress in the default ESP
  intune.autopilot.intune_esp:
    default: true
    show_installation_progress: true
    install_progress_timeout_in_minutes: 60

- name: Remove a profile
  intune.autopilot.intune_esp:
    display_name: Old ESP
    state: absent
"""

RETURN = r"""
esp:
  description:
    - The profile as Graph returns it after the change (predicted in check mode, without C(id) on create); null when absent.
  returned: always
  type: dict
  sample:
    "@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration"
    id: 3f1c2e4d-5a6b-4c7d-8e9f-0a1b2c3d4e5f_Windows10EnrollmentCompletionPageConfiguration
    displayName: Autopilot ESP
    priority: 1
    showInstallationProgress: true
    installProgressTimeoutInMinutes: 90
    blockDeviceSetupRetryByUser: false
    selectedMobileAppIds: [7d1e0f1c-8b1f-4d0a-9a51-0c3c2f1e5b77]
    roleScopeTagIds: ["0"]
assignments:
  description: The assignments after the change, in the option's shape with names; only when O(assignments) is set.
  returned: when assignments is set
  type: list
  elements: dict
  sample:
    - group: Autopilot devices
    - group: Autopilot lab devices
      exclude: true
diff:
  description:
    - The managed properties before and after (Graph names); apps and scope tags are shown by name,
      assignments in the option's shape.
  returned: always
  type: dict
"""

from ansible_collections.intune.autopilot.plugins.module_utils._graph_module import CHECK_MODE_MISSING_ARGSPEC, GraphModule
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import (
    EngineError, GraphResource, Prop, Relationship, Context, ensure, execute, find_current, list_all)
from ansible_collections.intune.autopilot.plugins.module_utils import _graph_assignments as targets
from ansible_collections.intune.autopilot.plugins.module_utils._intune_esp import (
    PATH, ESP_TYPE, DEFAULT_SUFFIX, is_default, is_esp, is_custom_esp)

MAX_MESSAGE = 10000   # customErrorMessage "Max length is 10000" (the Graph resource page)
MAX_APPS = 100        # "You can choose up to 100 apps" (memdocs windows-enrollment-status.md)

SETTINGS = (
    "show_installation_progress", "install_progress_timeout_in_minutes", "custom_error_message",
    "allow_log_collection_on_install_failure", "track_install_progress_for_autopilot_only",
    "disable_user_status_tracking_after_first_user", "install_quality_updates", "block_device_setup_retry_by_user",
    "allow_device_reset_on_install_failure", "allow_device_use_on_install_failure",
    "allow_non_blocking_app_installation", "selected_apps",
)
# Options the portal only shows once "Show app and profile configuration progress" is Yes.
NEEDS_PROGRESS = (
    "install_progress_timeout_in_minutes", "custom_error_message", "allow_log_collection_on_install_failure",
    "track_install_progress_for_autopilot_only", "disable_user_status_tracking_after_first_user",
    "install_quality_updates", "block_device_setup_retry_by_user",
)
# Options the portal only shows once "Block device use until all apps and profiles are installed" is Yes.
NEEDS_BLOCKING = (
    "allow_device_reset_on_install_failure", "allow_device_use_on_install_failure", "selected_apps",
    "allow_non_blocking_app_installation",
)
NOT_FOR_DEFAULT = ("display_name", "id", "description", "priority", "assignments", "scope_tags")


def _engaged(option, value):
    """Whether a dependent option is set to a value the portal only offers behind its parent setting."""
    if value is None:
        return False
    if option == "block_device_setup_retry_by_user":
        return value is False   # false = portal "Block device use ...: Yes"
    if isinstance(value, bool):
        return value
    return True


def validate(params):
    """Checks that need no Graph call; raises EngineError naming the option. Returns nothing."""
    if params.get("default"):
        if params.get("state") == "absent":
            raise EngineError("state: the default ESP cannot be deleted; only its settings can be changed.")
        given = [o for o in NOT_FOR_DEFAULT if params.get(o) is not None]
        if given:
            raise EngineError("%s: not allowed with default=true; the default ESP's name, description, priority, scope tags "
                              "and assignments belong to the service. Only its settings can be managed." % ", ".join(given))
    elif not params.get("display_name") and not params.get("id"):
        raise EngineError("display_name: one of display_name, id or default=true is required.")
    if params.get("default") is False:
        raise EngineError("default: only true selects the default ESP; omit it to manage a profile of yours.")
    if params.get("id") and str(params["id"]).endswith(DEFAULT_SUFFIX):
        raise EngineError("id: '%s' is the built-in default ESP; use default=true to manage its settings." % params["id"])
    if params.get("state") == "absent":
        return
    timeout = params.get("install_progress_timeout_in_minutes")
    if timeout is not None and timeout < 1:
        raise EngineError("install_progress_timeout_in_minutes: must be a whole number of minutes of at least 1 (got %d)."
                          % timeout)
    message = params.get("custom_error_message")
    if message is not None and len(message) > MAX_MESSAGE:
        raise EngineError("custom_error_message: at most %d characters are allowed (got %d)." % (MAX_MESSAGE, len(message)))
    apps = params.get("selected_apps")
    if apps is not None and len(apps) > MAX_APPS:
        raise EngineError("selected_apps: at most %d apps can be selected (got %d)." % (MAX_APPS, len(apps)))
    if apps is not None and any(not (a or "").strip() for a in apps):
        raise EngineError("selected_apps: an entry is empty; give an app's display name or id.")
    tags = params.get("scope_tags")
    if tags is not None and not tags:
        raise EngineError("scope_tags: give at least one scope tag ('Default' is the built-in one).")
    priority = params.get("priority")
    if priority is not None and priority < 1:
        raise EngineError("priority: must be 1 or greater (1 is the highest), got %d." % priority)
    if params.get("allow_non_blocking_app_installation") and not apps:
        raise EngineError("allow_non_blocking_app_installation: the portal offers 'Only fail selected blocking apps in "
                          "technician phase' only when blocking apps are selected; list them in selected_apps.")


def dependency_problems(params, current=None):
    """The portal's parent-setting rules, as one message per rule broken (empty when none is).

    A parent setting the task leaves out counts with its value on ``current`` (the ESP as Graph returns it), so
    changing only a dependent setting of an ESP whose parent is already on needs no restating.
    """
    if params.get("state") == "absent":
        return []
    current = current or {}
    show = params.get("show_installation_progress")
    if show is None:
        show = current.get("showInstallationProgress")
    block_retry = params.get("block_device_setup_retry_by_user")
    if block_retry is None:
        block_retry = current.get("blockDeviceSetupRetryByUser")
    problems = []
    rules = [
        (show is not True, NEEDS_PROGRESS + NEEDS_BLOCKING, "'Show app and profile configuration progress' is Yes",
         "show_installation_progress: true"),
        (block_retry is not False, NEEDS_BLOCKING, "'Block device use until all apps and profiles are installed' is Yes",
         "block_device_setup_retry_by_user: false"),
    ]
    for broken, dependents, portal, fix in rules:
        engaged = [o for o in dependents if _engaged(o, params.get(o))] if broken else []
        if engaged:
            problems.append(
                "%s: the portal offers %s only when %s (%s); set that in the same task, or leave %s out."
                % (engaged[0], "this setting" if len(engaged) == 1 else "these settings (%s)" % ", ".join(engaged),
                   portal, fix, "it" if len(engaged) == 1 else "them"))
    return problems


def check_dependencies(params, current=None):
    """Raise the :func:`dependency_problems` as one EngineError, if there are any."""
    problems = dependency_problems(params, current)
    if problems:
        raise EngineError(" ".join(problems))


def validate_all(params, current=None):
    """:func:`validate` and :func:`check_dependencies` together (``current``: the ESP as it is, or None)."""
    validate(params)
    check_dependencies(params, current)


def build(ctx):
    """The desired properties computed from several options: app and scope tag ids; the priority range is checked."""
    params = ctx.params
    desired = {}
    apps = params.get("selected_apps")
    if apps is not None:
        ids = []
        for index, app in enumerate(apps):
            app_id = ctx.resolver.id("app", app.strip(), "selected_apps[%d]" % index, allow_unresolved=False)
            if app_id not in ids:
                ids.append(app_id)
        desired["selectedMobileAppIds"] = ids
    tags = params.get("scope_tags")
    if tags is not None:
        ids = []
        for index, tag in enumerate(tags):
            tag_id = ctx.resolver.id("scope tag", tag, "scope_tags[%d]" % index, allow_unresolved=False)
            if tag_id not in ids:
                ids.append(tag_id)
        desired["roleScopeTagIds"] = ids
    if params.get("priority") is not None and not params.get("default"):
        check_priority(ctx, params["priority"])
    return desired


def check_priority(ctx, priority):
    """The portal numbers the ESP profiles 1..n without gaps (drag-and-drop re-ordering; memdocs "the profile set to 1
    has the highest priority"). A priority past the last position could never be reached, and the module would report
    a change on every run, so it is refused before any write. UNCLEAR in the Graph docs (setPriority's parameter is
    undocumented beyond its type)."""
    esps = list_all(ctx)
    key = (ctx.params.get("display_name") or "").lower()
    exists = any(e.get("id") == ctx.params.get("id") or (key and (e.get("displayName") or "").lower() == key) for e in esps)
    last = len(esps) + (0 if exists else 1)
    if priority > last:
        raise EngineError("priority: %d is past the last position; there %s %d ESP profile%s (the default ESP is not "
                          "counted), so the priority must be between 1 and %d."
                          % (priority, "is" if last == 1 else "are", last, "" if last == 1 else "s", last))


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
        return targets.desired(ctx.resolver, ctx.params.get("assignments"), "assignments")

    def current(self, ctx, obj):
        items = ctx.client.list("%s/%s/assignments" % (PATH, obj["id"]), api="beta")
        return targets.current(items)[0]

    def describe(self, ctx, items):
        return targets.describe_all(ctx.resolver, items)

    def apply(self, ctx, obj, desired, current):
        body = {"enrollmentConfigurationAssignments": [
            {"@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment", "target": targets.to_target(k, v)}
            for k, v in sorted(desired.items(), key=lambda kv: (kv[0][0], str(kv[0][1])))]}
        try:
            # Sending the same complete set twice has the same effect: safe to repeat after a 5xx.
            ctx.client.post("%s/%s/assign" % (PATH, obj["id"]), json=body, api="beta", probe=lambda: None)
        except GraphError as exc:
            raise EngineError("Failed to assign esp '%s': %s" % (obj.get("displayName"), exc), **exc.to_result())
        # The assign page does not say that the set replaces the current assignments (it is what the portal's
        # "Assignments" page does, and what the service does as far as reported). Read them back so that a
        # service that appended instead is reported here, not a silent extra target.
        after = self.current(ctx, obj)
        if after != desired:
            # A warning, not an error: how soon the service lists new assignments is not documented either.
            ctx.module.warn("After the assign action Intune reports the assignments of esp '%s' as %s; %s was sent. "
                            "If the next run reports the same change again, check them in the portal."
                            % (obj.get("displayName"), self.describe(ctx, after), self.describe(ctx, desired)))


def resource(default=False):
    return GraphResource(
        name="esp",
        path=PATH,
        api="beta",
        key=("display_name", "displayName"),
        find_by="list",
        match=is_esp if default else is_custom_esp,
        odata_type=ESP_TYPE,
        build=build,
        props=[
            # The name is a property too: sent on create (the engine sends only declared properties), and with
            # O(id) it renames; found without case, it is compared exactly so a change of case is applied.
            Prop("display_name", "displayName"),
            Prop("description", "description"),
            Prop("show_installation_progress", "showInstallationProgress"),
            Prop("install_progress_timeout_in_minutes", "installProgressTimeoutInMinutes"),
            Prop("custom_error_message", "customErrorMessage"),
            Prop("allow_log_collection_on_install_failure", "allowLogCollectionOnInstallFailure"),
            Prop("track_install_progress_for_autopilot_only", "trackInstallProgressForAutopilotOnly"),
            Prop("disable_user_status_tracking_after_first_user", "disableUserStatusTrackingAfterFirstUser"),
            Prop("install_quality_updates", "installQualityUpdates"),
            Prop("block_device_setup_retry_by_user", "blockDeviceSetupRetryByUser"),
            Prop("allow_device_reset_on_install_failure", "allowDeviceResetOnInstallFailure"),
            Prop("allow_device_use_on_install_failure", "allowDeviceUseOnInstallFailure"),
            Prop("allow_non_blocking_app_installation", "allowNonBlockingAppInstallation"),
            Prop("selected_apps", "selectedMobileAppIds", kind="set"),
            Prop("scope_tags", "roleScopeTagIds", kind="set"),
            Prop("priority", "priority", writer=set_priority),
        ],
        relationships=[] if default else [Assignments()],
    )


def _names(ctx, kind, ids):
    if ids is None:
        return None
    return sorted(ctx.resolver.name(kind, i) for i in ids)


def readable_diff(ctx, result):
    """Apps and scope tags by name in the diff (the engine compares their ids)."""
    for side in ("before", "after"):
        view = result.get("diff", {}).get(side) or {}
        if "selectedMobileAppIds" in view:
            view["selectedMobileAppIds"] = _names(ctx, "app", view["selectedMobileAppIds"])
        if "roleScopeTagIds" in view:
            view["roleScopeTagIds"] = _names(ctx, "scope tag", view["roleScopeTagIds"])
    return result


def find_default(ctx):
    found = [i for i in ctx.client.list(PATH, api="beta") if is_esp(i) and is_default(i)]
    if len(found) != 1:
        raise EngineError("default: expected one built-in default ESP, found %d (ids: %s)."
                          % (len(found), ", ".join(sorted(i.get("id", "?") for i in found)) or "none"))
    return found[0]["id"]


def run(module):
    params = module.params
    validate(params)
    default = bool(params.get("default"))
    ctx = Context(module, resource(default))
    if default:
        params["id"] = find_default(ctx)
    current = None
    if dependency_problems(params) and (params.get("show_installation_progress") is None
                                        or params.get("block_device_setup_retry_by_user") is None):
        # A parent setting left out may already be on: judge by the ESP as it is (one read, still before any write).
        current = find_current(ctx)
    check_dependencies(params, current)
    return readable_diff(ctx, ensure(ctx))


def argument_spec():
    return dict(
        display_name=dict(type="str", aliases=["name"]),
        id=dict(type="str"),
        default=dict(type="bool"),
        description=dict(type="str"),
        show_installation_progress=dict(type="bool"),
        install_progress_timeout_in_minutes=dict(type="int"),
        custom_error_message=dict(type="str"),
        allow_log_collection_on_install_failure=dict(type="bool"),
        track_install_progress_for_autopilot_only=dict(type="bool"),
        disable_user_status_tracking_after_first_user=dict(type="bool"),
        install_quality_updates=dict(type="bool"),
        block_device_setup_retry_by_user=dict(type="bool"),
        allow_device_reset_on_install_failure=dict(type="bool"),
        allow_device_use_on_install_failure=dict(type="bool"),
        allow_non_blocking_app_installation=dict(type="bool"),
        selected_apps=dict(type="list", elements="str"),
        scope_tags=dict(type="list", elements="str"),
        priority=dict(type="int"),
        assignments=targets.assignment_argspec(),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        check_mode_missing=CHECK_MODE_MISSING_ARGSPEC,
    )


def main():
    module = GraphModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[["default", "display_name"], ["default", "id"]],
        supports_check_mode=True,
    )
    execute(module, lambda: run(module))


if __name__ == "__main__":
    main()

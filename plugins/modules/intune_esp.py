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
  - "The portal only offers some settings together: O(install_progress_timeout_in_minutes), O(custom_error_message),
    O(allow_log_collection_on_install_failure), O(track_install_progress_for_autopilot_only),
    O(disable_user_status_tracking_after_first_user), O(install_quality_updates) and O(block_device_setup_retry_by_user=false)
    behind O(show_installation_progress=true); O(allow_device_reset_on_install_failure), O(allow_device_use_on_install_failure),
    O(selected_apps) and O(allow_non_blocking_app_installation) behind O(block_device_setup_retry_by_user=false) (portal
    B(Block device use) B(Yes)); O(allow_non_blocking_app_installation=true) behind at least one app in O(selected_apps).
    Graph accepts every combination and real tenants hold them (the default ESP, ESPs made by other tools), so the module
    writes what the task asks and only warns when the task changes an ESP into a combination the portal cannot show. A
    parent setting the task leaves out counts with the value the ESP has, and an ESP that already holds such a
    combination is adopted as it is: a task that restates its settings changes nothing and warns about nothing."
author:
  - intune.autopilot contributors (@intune-autopilot)
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
    description:
      - The profile's description (portal B(Description)).
      - An empty description and none at all (Graph returns null) are the same, so V("") on such a profile is no change.
    type: str
  show_installation_progress:
    description:
      - Portal B(Show app and profile configuration progress). V(false) hides the page during device setup.
    type: bool
  install_progress_timeout_in_minutes:
    description:
      - Portal B(Show an error when installation takes longer than specified number of minutes); a whole number of
        minutes, not negative. The portal's default is 60; real tenants' default ESPs hold V(0) while the page is hidden,
        which Graph documents no bound against, so V(0) is accepted.
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
        (the default ESP is not counted). The portal numbers them without gaps, so a priority past the last one could
        never be reached and would be reported as a change on every run.
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
extends_documentation_fragment:
  - intune.autopilot.graph_auth
  - intune.autopilot.assignments
  - intune.autopilot.check_mode
  - intune.autopilot.attributes
  - intune.autopilot.attributes.action_group
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
from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import Context, ensure
from ansible_collections.intune.autopilot.plugins.module_utils._graph_assignments import assignment_argspec
from ansible_collections.intune.autopilot.plugins.module_utils._intune_esp import resource


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
        assignments=assignment_argspec(),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        check_mode_missing=CHECK_MODE_MISSING_ARGSPEC,
    )


def main():
    module = GraphModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[["default", "display_name"], ["default", "id"]],
        supports_check_mode=True,
    )
    module.run(lambda: ensure(Context(module, resource(include_default=bool(module.params.get("default"))))))


if __name__ == "__main__":
    main()

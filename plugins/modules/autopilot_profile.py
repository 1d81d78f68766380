#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: autopilot_profile
short_description: Manage a Windows Autopilot deployment profile for Microsoft Entra join and its group assignments
version_added: 0.1.0
description:
  - Creates, updates or deletes one Windows Autopilot deployment profile of the type Microsoft Entra joined
    (Graph C(#microsoft.graph.azureADWindowsAutopilotDeploymentProfile), beta API only), found by its display name
    (or its id), and reconciles its group assignments.
  - "This is steps 6 (create the profile) and 4 (assign it to the device group) of Microsoft's tutorial
    I(Windows Autopilot user-driven Microsoft Entra join)."
  - Graph cannot filter profiles on the server, so the module lists them and compares names without regard to case.
    Only Entra join profiles are managed; hybrid join profiles (C(activeDirectoryWindowsAutopilotDeploymentProfile))
    are never changed. When two Entra join profiles carry the name, the module fails and names their ids. When no Entra
    join profile but a hybrid join profile carries it, the module fails before any write and names the hybrid join
    profile, instead of creating a second profile with the same name; the same holds for a rename.
  - "Omitted options are left as they are on an existing profile. On a new profile, the module sends the settings of
    the tutorial for those you omit: O(locale=os-default), O(device_type=windowsPc),
    O(hardware_hash_extraction_enabled=false), O(preprovisioning_allowed=false) and an out-of-box experience with
    EULA, privacy settings and change-account options hidden, the keyboard page skipped, a standard user and
    user-driven (single user) deployment. Each option below says which default applies on creation."
  - Graph returns some settings twice, under a deprecated name and its replacement (C(language)/C(locale),
    C(outOfBoxExperienceSettings)/C(outOfBoxExperienceSetting), C(extractHardwareHash)/C(hardwareHashExtractionEnabled),
    C(enableWhiteGlove)/C(preprovisioningAllowed)). The module writes only the current names and reads either, so the
    two spellings never show as a change.
  - "Assignments are reconciled one by one: a missing group is assigned (one POST), a group no longer listed is
    unassigned (one DELETE), and assignments that stay are not touched. New assignments are created before old ones
    are removed, so devices are never left without the profile during a change."
  - "Assignment targets of an Autopilot profile: O(assignments[].group) (included or excluded) and
    O(assignments[].all_devices). O(assignments[].all_users) is refused (Autopilot profiles are assigned to devices),
    and so are O(assignments[].filter) and O(assignments[].filter_mode): Intune's list of workloads that support
    assignment filters does not include Autopilot deployment profiles, which apply before the device is enrolled
    (memdocs intune/fundamentals/filters-supported-workloads.md). Both are refused before any call. An existing
    assignment that carries a filter set elsewhere is replaced by one without it: that one assignment is deleted,
    then created again (the service keys assignments by profile and group, so it cannot be created first)."
author:
  - intune.autopilot contributors (@intune-autopilot)
options:
  display_name:
    description:
      - The profile's name (at most 200 characters), its natural key.
      - "Letters, digits, spaces and C(: \" ? . @ $ & _ [ ] { } | \\) only: Intune answers a profile name with any other
        character, a hyphen in particular, with an HTTP 500 that gives no reason (field reports, Microsoft documents
        only the length). The module refuses such a name before any call when it would create the profile or rename
        it; a profile that already carries such a name is still found and managed."
      - Required unless O(id) is given.
    type: str
    aliases: [name]
  id:
    description:
      - The profile's id. When set, the profile is found by id and O(display_name) is a property to set.
    type: str
  description:
    description:
      - The profile's description (at most 1500 characters).
      - An empty description and none at all (Graph returns null) are the same, so V("") on such a profile is no change.
    type: str
  locale:
    description:
      - The language (region) of Windows Setup, C(os-default) for the operating system's default, or a language tag
        such as C(en-US), C(de-DE) or C(sr-Latn-RS). Checked before any call; compared without regard to case.
      - "On creation when omitted: V(os-default) (the tutorial's choice). On an existing profile when omitted: unchanged."
      - A profile whose locale Graph returns empty counts as C(os-default), the service's default.
    type: str
  device_name_template:
    description:
      - The name each device gets during setup. Letters, digits and hyphens, plus one macro at most, C(%SERIAL%)
        (the device's serial number) or C(%RAND:x%) (x random digits). The empty string removes the template.
      - "Checked before any call. The generated name must fit in 15 characters, counted as follows: each literal
        character counts 1, C(%RAND:x%) counts x, and C(%SERIAL%) counts 1, because Windows shortens the serial
        number from its beginning to whatever room is left (Windows Accounts CSP, C(Domain/ComputerName)) but at
        least one character of it must fit. So C(CONTOSO-%SERIAL%) and C(AP-%RAND:12%) are accepted,
        C(CONTOSO-LAPTOP-%SERIAL%) is not. A template that can only produce digits (such as C(%RAND:8%) or C(1234))
        is refused: Windows names cannot be all digits. Macros are written in capitals; any other C(%...%) is an
        unknown macro."
      - "Sources: Microsoft's Autopilot profile documentation (names of 15 characters or less, letters, numbers and
        hyphens, not all numbers, the two macros), the Graph property C(deviceNameTemplate) (the generated text at most
        15 characters; either the serial or a random number) and the Windows Accounts CSP (how the serial is shortened)."
      - On creation when omitted, no template (Windows keeps its generated name). On an existing profile, unchanged.
    type: str
  hardware_hash_extraction_enabled:
    description:
      - The portal's I(Convert all targeted devices to Autopilot). When true, Intune registers the corporate devices
        of the assigned groups with Autopilot; removing the setting later does not deregister them.
      - On creation when omitted, V(false). On an existing profile, unchanged.
    type: bool
  preprovisioning_allowed:
    description:
      - Allow pre-provisioned deployment (formerly white glove). The tutorial sets V(false).
      - On creation when omitted, V(false). On an existing profile, unchanged.
    type: bool
  device_type:
    description:
      - The kind of device the profile is for.
      - On creation when omitted, V(windowsPc). On an existing profile, unchanged.
    type: str
    choices: [windowsPc, holoLens, surfaceHub2, surfaceHub2S, virtualMachine]
  out_of_box_experience_setting:
    description:
      - What Windows Setup (OOBE) shows. Only the suboptions you set are compared and changed; the others keep their
        values on an existing profile.
      - "On creation, each suboption you omit takes the tutorial's value (given as the default below): EULA, privacy
        settings and change-account options hidden, keyboard page skipped, standard user, single user (user-driven)."
    type: dict
    suboptions:
      privacy_settings_hidden:
        description: Hide the privacy settings page. On creation when omitted, V(true).
        type: bool
      eula_hidden:
        description: Hide the Microsoft Software License Terms page. On creation when omitted, V(true).
        type: bool
      user_type:
        description:
          - Whether the user who sets up the device becomes a local V(administrator) or a V(standard) user.
          - On creation when omitted, V(standard).
          - With O(out_of_box_experience_setting.device_usage_type=shared) (self-deploying) it is compared only when
            Graph returns a C(userType) for the profile (Graph's own examples of shared profiles carry one, a field
            report saw it missing). On creation of a shared profile it is sent only when you set it.
        type: str
        choices: [administrator, standard]
      device_usage_type:
        description:
          - V(singleUser) is user-driven deployment (the device is associated with the user who enrolls it);
            V(shared) is self-deploying.
          - On creation when omitted, V(singleUser).
        type: str
        choices: [singleUser, shared]
      keyboard_selection_page_skipped:
        description:
          - The portal's I(Automatically configure keyboard). Skips the keyboard page when a language is set.
          - On creation when omitted, V(true).
        type: bool
      escape_link_hidden:
        description:
          - The portal's I(Hide change account options) (needs company branding in Microsoft Entra ID).
          - On creation when omitted, V(true).
        type: bool
  scope_tags:
    description:
      - The complete list of role scope tags, by name (C(Default) is the built-in tag) or by id.
      - When omitted, the scope tags are left as they are (Intune gives a new profile the C(Default) tag).
    type: list
    elements: str
  state:
    description:
      - Whether the profile should exist. V(absent) first removes every assignment (Intune refuses to delete an
        assigned profile), then deletes the profile.
    type: str
    choices: [present, absent]
    default: present
notes:
  - "Graph application permissions: C(DeviceManagementServiceConfig.ReadWrite.All) for the profile and its
    assignments; C(Group.Read.All) to resolve group names; C(DeviceManagementRBAC.Read.All) to resolve scope tags
    by name."
  - The profile is returned as Graph returns it (camelCase keys, both property generations), without C(@odata.context).
  - Changes to a profile reach devices that are already enrolled only after they are reset (Microsoft's documentation).
  - When a device's groups carry several profiles, Intune applies the oldest one.
seealso:
  - module: intune.autopilot.autopilot_profile_info
  - module: intune.autopilot.aad_group
  - name: Configure Autopilot profiles
    description: Microsoft's description of every setting.
    link: https://learn.microsoft.com/autopilot/profiles
  - name: "User-driven Microsoft Entra join: create and assign the Autopilot profile"
    description: The tutorial whose settings are this module's defaults on creation.
    link: https://learn.microsoft.com/autopilot/tutorial/user-driven/azure-ad-join-autopilot-profile
extends_documentation_fragment:
  - intune.autopilot.graph_auth
  - intune.autopilot.assignments
  - intune.autopilot.check_mode
  - intune.autopilot.attributes
  - intune.autopilot.attributes.action_group
"""

EXAMPLES = r"""
# Group and scope tag names below are examples: use your tenant's. Assigned groups must exist first
# (intune.autopilot.aad_group creates them).
- name: The tutorial's user-driven Entra join profile, assigned to the Autopilot device group
  intune.autopilot.autopilot_profile:
    display_name: Autopilot user driven
    description: User driven Microsoft Entra join
    device_name_template: CONTOSO-%SERIAL%
    assignments:
      - group: Autopilot devices

- name: Make the user a local administrator (only this setting changes)
  intune.autopilot.autopilot_profile:
    display_name: Autopilot user driven
    out_of_box_experience_setting:
      user_type: administrator

- name: Everything spelled out, German setup, assigned to two groups but not to the kiosks
  intune.autopilot.autopilot_profile:
    display_name: Autopilot Berlin
    locale: de-DE
    device_name_template: BER-%RAND:6%
    hardware_hash_extraction_enabled: false
    preprovisioning_allowed: false
    device_type: windowsPc
    out_of_box_experience_setting:
      privacy_settings_hidden: true
      eula_hidden: true
      escape_link_hidden: true
      keyboard_selection_page_skipped: true
      user_type: standard
      device_usage_type: singleUser
    scope_tags: [Default, Berlin]
    assignments:
      - group: Autopilot devices - Berlin
      - group: Autopilot devices - Berlin kiosks
        exclude: true

- name: Unassign and delete a profile
  intune.autopilot.autopilot_profile:
    display_name: Old profile
    state: absent
"""

RETURN = r"""
profile:
  description:
    - The profile as Graph returns it after the change (predicted in check mode, without C(id) on creation); null when
      absent.
  returned: always
  type: dict
  sample:
    "@odata.type": "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile"
    id: 6b1f4c3e-58a3-4b5e-9d44-2f1a0c7e9b10
    displayName: Autopilot user-driven
    description: User-driven Microsoft Entra join
    locale: os-default
    deviceNameTemplate: CONTOSO-%SERIAL%
    deviceType: windowsPc
    hardwareHashExtractionEnabled: false
    preprovisioningAllowed: false
    roleScopeTagIds: ["0"]
    outOfBoxExperienceSetting:
      privacySettingsHidden: true
      eulaHidden: true
      userType: standard
      deviceUsageType: singleUser
      keyboardSelectionPageSkipped: true
      escapeLinkHidden: true
assignments:
  description: The assignments after the change, in the shape of the O(assignments) option (group names); only when
    O(assignments) is set.
  returned: when assignments is set
  type: list
  elements: dict
  sample:
    - group: Autopilot devices
diff:
  description: The managed properties (Graph names) and the assignments before and after.
  returned: always
  type: dict
"""

from ansible_collections.intune.autopilot.plugins.module_utils._graph_module import CHECK_MODE_MISSING_ARGSPEC, GraphModule
from ansible_collections.intune.autopilot.plugins.module_utils._graph_resource import Context, ensure
from ansible_collections.intune.autopilot.plugins.module_utils._graph_assignments import assignment_argspec
from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_profile import DEVICE_TYPES, resource


def argument_spec():
    oobe = dict(
        privacy_settings_hidden=dict(type="bool"),
        eula_hidden=dict(type="bool"),
        user_type=dict(type="str", choices=["administrator", "standard"]),
        device_usage_type=dict(type="str", choices=["singleUser", "shared"]),
        keyboard_selection_page_skipped=dict(type="bool"),
        escape_link_hidden=dict(type="bool"),
    )
    return dict(
        display_name=dict(type="str", aliases=["name"]),
        id=dict(type="str"),
        description=dict(type="str"),
        locale=dict(type="str"),
        device_name_template=dict(type="str"),
        hardware_hash_extraction_enabled=dict(type="bool"),
        preprovisioning_allowed=dict(type="bool"),
        device_type=dict(type="str", choices=DEVICE_TYPES),
        out_of_box_experience_setting=dict(type="dict", options=oobe),
        scope_tags=dict(type="list", elements="str"),
        assignments=assignment_argspec(),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        check_mode_missing=CHECK_MODE_MISSING_ARGSPEC,
    )


def main():
    module = GraphModule(
        argument_spec=argument_spec(),
        required_one_of=[["display_name", "id"]],
        supports_check_mode=True,
    )
    module.run(lambda: ensure(Context(module, resource())))


if __name__ == "__main__":
    main()

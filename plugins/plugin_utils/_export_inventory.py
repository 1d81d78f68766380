# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""From what a tenant holds to the inventory of the role user_driven_join (the playbook ``intune.autopilot.export``).

Internal to this collection; it may change in any release. The input is what the ``_info`` modules return
(their documented RETURN): ``intune_esp_info.esps``, ``autopilot_profile_info.profiles`` (with ``assignments``),
the dynamic groups from ``aad_group_info`` and ``autopilot_device_info.devices``. The output is a model of the
sites, the tenant-wide settings and the notes; ``_export_render`` turns it into files.

What is a site. A deployment profile of type Microsoft Entra join
(``#microsoft.graph.azureADWindowsAutopilotDeploymentProfile``) for user-driven deployment
(``deviceUsageType`` ``singleUser``: the role writes nothing else) that is assigned (included) to a dynamic group
whose rule selects one group tag (``_membership_rule.group_tag``). One site per such group; the devices whose
group tag is that tag (without case, as Entra compares rule values) are its devices. When several such profiles
include the same group, the site takes the oldest one, the profile Intune applies to those devices
(MicrosoftDocs/memdocs autopilot/profiles.md: "If a group is assigned to multiple Autopilot profiles, the device
would receive the oldest created profile"), and the others are listed.

The ESP the role manages is, among the ESPs of yours (never the built-in default), the one of highest priority
that is assigned to the group of all Autopilot devices, else to a site's group, else of highest priority overall.
The group of all Autopilot devices is a dynamic group whose rule selects every Autopilot device
(``_membership_rule.is_all_autopilot``), the one an ESP is assigned to when there are several.

Every value is written out, including those equal to the role's defaults: a later release that changes a default
then does not change an adopted tenant. Everything the role cannot express is a note with its reason, so that
EXPORT.md lists it; nothing is dropped silently.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import is_guid
from ansible_collections.intune.autopilot.plugins.module_utils._membership_rule import group_tag, is_all_autopilot

ENTRA_PROFILE = "azureADWindowsAutopilotDeploymentProfile"
HYBRID_PROFILE = "activeDirectoryWindowsAutopilotDeploymentProfile"
ASSIGNED = ("assignedInSync", "assignedOutOfSync", "assignedUnkownSyncState")
SITE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# An Autopilot device property in a rule: devicePhysicalIds carries [ZTDId], [OrderId] and [PurchaseOrderId].
AUTOPILOT_RULE = re.compile(r"devicephysicalids", re.IGNORECASE)
# OOBE settings under their current name and their deprecated one (both returned; the profile module reads either).
OOBE = (("user_type", "userType", "userType"), ("privacy_settings_hidden", "privacySettingsHidden", "hidePrivacySettings"),
        ("eula_hidden", "eulaHidden", "hideEULA"), ("escape_link_hidden", "escapeLinkHidden", "hideEscapeLink"),
        ("keyboard_selection_page_skipped", "keyboardSelectionPageSkipped", "skipKeyboardSelectionPage"))
ESP_VARS = (("show_installation_progress", "showInstallationProgress"),
            ("install_progress_timeout_in_minutes", "installProgressTimeoutInMinutes"),
            ("custom_error_message", "customErrorMessage"),
            ("allow_log_collection_on_install_failure", "allowLogCollectionOnInstallFailure"),
            ("track_install_progress_for_autopilot_only", "trackInstallProgressForAutopilotOnly"),
            ("block_device_setup_retry_by_user", "blockDeviceSetupRetryByUser"),
            ("install_quality_updates", "installQualityUpdates"),
            ("allow_device_reset_on_install_failure", "allowDeviceResetOnInstallFailure"),
            ("allow_device_use_on_install_failure", "allowDeviceUseOnInstallFailure"))
# ESP settings intune_esp manages but the role does not pass: kept as they are; listed when not at their default.
ESP_KEPT = (("disableUserStatusTrackingAfterFirstUser", False, "disable_user_status_tracking_after_first_user"),
            ("allowNonBlockingAppInstallation", False, "allow_non_blocking_app_installation"))
DEFAULT_SCOPE_TAGS = (["0"], None, [])
TENANT_GROUP = "Autopilot devices"
ESP_NAME = "Autopilot user-driven ESP"


class ExportError(Exception):
    """Bad export options (``export_sites``): every problem, before anything is written."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(ExportError, self).__init__(" ".join(self.problems))


def lower(value):
    return (value or "").lower()


def type_name(obj):
    return (obj.get("@odata.type") or "").lstrip("#").rsplit(".", 1)[-1]


def pick(obj, current, deprecated):
    """A setting under its current name, else under its deprecated name (Graph returns both generations)."""
    value = obj.get(current)
    return obj.get(deprecated) if value is None else value


def included_groups(obj):
    """The names (or ids) of the groups an ``_info`` result's assignments include."""
    return [a["group"] for a in obj.get("assignments") or [] if a.get("group") and not a.get("exclude")]


def describe_assignments(assignments):
    parts = []
    for entry in assignments or []:
        if entry.get("group"):
            part = ("not '%s'" if entry.get("exclude") else "'%s'") % entry["group"]
        else:
            part = "all devices" if entry.get("all_devices") else "all users"
        if entry.get("filter"):
            part += " (filter '%s', %s)" % (entry["filter"], entry.get("filter_mode") or "include")
        parts.append(part)
    return ", ".join(parts) or "nothing"


def parse_site_names(value):
    """``export_sites`` -> ``({tag in lower case: (tag, site)}, problems)``: a dict ``{tag: site}`` or the text
    ``TAG=site,TAG=site``; tags compare without case."""
    if value in (None, "", {}):
        return {}, []
    problems, mapping = [], {}
    if isinstance(value, str):
        pairs = []
        for item in [i.strip() for i in value.split(",") if i.strip()]:
            tag, sep, site = item.partition("=")
            if not sep or not tag.strip() or not site.strip():
                problems.append("export_sites: '%s' is not TAG=site." % item)
                continue
            pairs.append((tag.strip(), site.strip()))
    elif isinstance(value, dict):
        pairs = [(str(k), str(v) if v is not None else "") for k, v in value.items()]
    else:
        return {}, ["export_sites: give a mapping of group tags to site names, or the text TAG=site,TAG=site."]
    for tag, site in pairs:
        if site and not SITE_NAME.match(site):
            problems.append("export_sites: site name '%s' (tag '%s') may hold only letters, digits, '_', '-' and '.', "
                            "and not start with '.' or '-'." % (site, tag))
        if lower(tag) in mapping:
            problems.append("export_sites: tag '%s' is given twice." % tag)
        mapping[lower(tag)] = (tag, site)
    return mapping, problems


class Notes(object):
    """What EXPORT.md lists, section by section; each entry is ``(object, reason)``. ``entries(section)`` gives them
    sorted and once each, so that the order in which Graph listed the objects never shows in the file."""

    SECTIONS = ("problems", "changes", "profiles", "esps", "groups", "devices", "settings")

    def __init__(self):
        for section in self.SECTIONS:
            setattr(self, section, [])

    def entries(self, section):
        return sorted(set(getattr(self, section)))


class Tenant(object):
    """The model of one export: ``esp``, ``tenant_group``, ``sites`` (sorted by name) and ``notes``."""

    def __init__(self, esps, profiles, groups, devices, site_names=None):
        self.notes = Notes()
        self.esps = [e for e in esps or [] if not e.get("is_default")]
        self.default_esps = [e for e in esps or [] if e.get("is_default")]
        self.profiles = list(profiles or [])
        self.groups = [g for g in groups or [] if "DynamicMembership" in (g.get("groupTypes") or [])]
        self.devices = list(devices or [])
        self.groups_by_name = {}
        for group in self.groups:
            self.groups_by_name.setdefault(lower(group.get("displayName")), []).append(group)
        self.tenant_group = self._tenant_group()
        self.sites = self._sites()
        self._name_sites(*parse_site_names(site_names))
        self.esp = self._esp()
        self._devices()
        self._other_groups()
        self._dangling_groups()

    # -- the group of all Autopilot devices ------------------------------------------------------------------
    def _tenant_group(self):
        candidates = [g for g in self.groups if is_all_autopilot(g.get("membershipRule"))]
        targeted = set(lower(n) for e in self.esps for n in included_groups(e))
        candidates.sort(key=lambda g: (lower(g.get("displayName")) not in targeted, lower(g.get("displayName")), g["id"]))
        if not candidates:
            self.notes.changes.append((
                "group '%s'" % TENANT_GROUP,
                "The tenant has no dynamic group of all Autopilot devices; the role creates this one on its first run "
                "(rename it in group_vars first if you like; a group of that name that exists already would be "
                "turned into this dynamic group: check the --check --diff output)."))
            return {"displayName": TENANT_GROUP, "description": None, "new": True}
        for other in candidates[1:]:
            self.notes.groups.append(("group '%s'" % other.get("displayName"),
                                      "A second group of all Autopilot devices; the role manages '%s'."
                                      % candidates[0].get("displayName")))
        self._unique_group(candidates[0], "the group of all Autopilot devices")
        self._kept_group_settings(candidates[0])
        return candidates[0]

    def _unique_group(self, group, role):
        same = self.groups_by_name.get(lower(group.get("displayName")), [])
        if len(same) > 1:
            self.notes.problems.append((
                "group '%s'" % group.get("displayName"),
                "%d dynamic groups carry this name (ids %s); the role finds %s by name and fails. Rename all but one."
                % (len(same), ", ".join(sorted(g["id"] for g in same)), role)))

    def _kept_group_settings(self, group):
        if group.get("membershipRuleProcessingState") == "Paused":
            self.notes.settings.append(("group '%s'" % group.get("displayName"),
                                        "Rule processing is Paused; the role does not set it and keeps it so."))

    # -- sites -------------------------------------------------------------------------------------------------
    @staticmethod
    def _profile_kind(profile):
        """None for a profile the role can manage as a site's profile, else why not."""
        kind = type_name(profile)
        if kind == HYBRID_PROFILE:
            return "A Microsoft Entra hybrid join profile; the role manages Microsoft Entra join profiles only."
        if kind != ENTRA_PROFILE:
            return "A deployment profile of type %s; the role manages Microsoft Entra join profiles only." % (kind or "unknown")
        usage = (profile.get("outOfBoxExperienceSetting") or {}).get("deviceUsageType") or \
            (profile.get("outOfBoxExperienceSettings") or {}).get("deviceUsageType")
        if usage != "singleUser":
            return ("A %s deployment profile (deviceUsageType %s); the role makes user-driven (singleUser) profiles only."
                    % ("self-deploying" if usage == "shared" else "non user-driven", usage))
        return None

    def _tag_group(self, name):
        """The dynamic group named ``name`` whose rule selects a group tag, with the tag; else (None, None).
        Several groups of that name are a problem the site notes (the role finds groups by name)."""
        found = sorted((g for g in self.groups_by_name.get(lower(name), []) if group_tag(g.get("membershipRule"))),
                       key=lambda g: g["id"])
        if not found:
            return None, None
        return found[0], group_tag(found[0]["membershipRule"])

    def _sites(self):
        by_group = {}
        for profile in self.profiles:
            reason = self._profile_kind(profile)
            groups = [self._tag_group(n) for n in included_groups(profile)] if reason is None else []
            groups = [(g, t) for g, t in groups if g is not None]
            if reason is None and not groups:
                reason = ("Assigned to %s: no dynamic group whose rule selects a group tag, so no site."
                          % describe_assignments(profile.get("assignments")))
            if reason is not None:
                self.notes.profiles.append((self._profile_label(profile), reason))
            for group, tag in groups:
                by_group.setdefault(group["id"], (group, tag, []))[2].append(profile)
        sites = []
        for group, tag, candidates in by_group.values():
            candidates.sort(key=lambda p: (p.get("createdDateTime") or "", lower(p.get("displayName")), p.get("id")))
            for other in candidates[1:]:
                self.notes.profiles.append((self._profile_label(other), (
                    "Also assigned to group '%s'; Intune applies the oldest profile, '%s', to its devices, and the "
                    "site of that group manages that one.") % (group.get("displayName"), candidates[0].get("displayName"))))
            sites.append(self._site(group, tag, candidates[0]))
        return sites

    @staticmethod
    def _profile_label(profile):
        return "profile '%s'" % profile.get("displayName")

    def _site(self, group, tag, profile):
        self._unique_group(group, "the site's group")
        self._kept_group_settings(group)
        same = [p for p in self.profiles if lower(p.get("displayName")) == lower(profile.get("displayName"))
                and type_name(p) == ENTRA_PROFILE]
        if len(same) > 1:
            self.notes.problems.append((self._profile_label(profile), (
                "%d Microsoft Entra join profiles carry this name (ids %s); the profile module finds it by name and "
                "fails. Rename all but one.") % (len(same), ", ".join(sorted(p["id"] for p in same)))))
        tags = [t for t in profile.get("roleScopeTagIds") or [] if t != "0"]
        if tags:
            self.notes.settings.append((self._profile_label(profile),
                                        "Scope tags (ids %s); the role does not set them and keeps them." % ", ".join(tags)))
        if profile.get("enrollmentStatusScreenSettings"):
            self.notes.settings.append((self._profile_label(profile), "enrollmentStatusScreenSettings is set (the "
                                        "profile's own ESP settings); the role does not set them and keeps them."))
        site = {"name": None, "tag": tag, "group": group, "profile": profile, "devices": [], "users": [], "waiting": []}
        site["vars"] = self._site_settings(site)
        return site

    def _name_sites(self, mapping, problems):
        unknown = sorted(set(mapping) - set(lower(s["tag"]) for s in self.sites))
        if unknown:
            problems.append("export_sites: no site has the group tag%s %s (the sites' tags: %s)." % (
                "s" if len(unknown) > 1 else "", ", ".join("'%s'" % mapping[t][0] for t in unknown),
                ", ".join(sorted(set("'%s'" % s["tag"] for s in self.sites))) or "none"))
        if problems:
            raise ExportError(problems)
        taken = {}
        self.sites.sort(key=lambda s: (lower(s["tag"]), lower(s["group"].get("displayName")), s["group"]["id"]))
        for site in self.sites:
            wanted = mapping.get(lower(site["tag"]), (None, None))[1] or \
                re.sub(r"[^a-z0-9_-]+", "_", lower(site["tag"])).strip("_") or "site"
            name, count = wanted, 1
            while lower(name) in taken:
                count += 1
                name = "%s_%d" % (wanted, count)
            if name != wanted:
                self.notes.settings.append(("site '%s'" % name, "Named '%s' because site '%s' (group '%s') has that name; "
                                            "map the tags with export_sites to choose." % (
                                                name, wanted, taken[lower(wanted)]["group"].get("displayName"))))
            site["name"] = name
            taken[lower(name)] = site
        self.sites.sort(key=lambda s: lower(s["name"]))

    # -- the ESP ----------------------------------------------------------------------------------------------
    def _esp(self):
        site_groups = set(lower(s["group"].get("displayName")) for s in self.sites)
        tenant = lower(self.tenant_group.get("displayName"))
        pools = ([e for e in self.esps if tenant in set(lower(n) for n in included_groups(e))],
                 [e for e in self.esps if site_groups & set(lower(n) for n in included_groups(e))], self.esps)
        chosen = None
        for pool in pools:
            if pool:
                chosen = min(pool, key=lambda e: (e.get("priority") or 0, lower(e.get("displayName")), e.get("id")))
                break
        if chosen is None:
            self.notes.changes.append(("ESP '%s'" % ESP_NAME, (
                "The tenant has no Enrollment Status Page besides the default one; the role creates this one on its "
                "first run, with the settings in group_vars (the role's defaults), at priority 1, assigned to '%s'.")
                % self.tenant_group.get("displayName")))
            return None
        for esp in self.esps:
            if esp is not chosen:
                self.notes.esps.append(("ESP '%s'" % esp.get("displayName"), (
                    "Another Enrollment Status Page (priority %s, assigned to %s); the role manages one ESP, '%s'.")
                    % (esp.get("priority"), describe_assignments(esp.get("assignments")), chosen.get("displayName"))))
        for esp in self.default_esps:
            self.notes.esps.append(("ESP '%s'" % esp.get("displayName"),
                                    "The built-in default ESP; the role never changes it."))
        same = [e for e in self.esps if lower(e.get("displayName")) == lower(chosen.get("displayName"))]
        if len(same) > 1:
            self.notes.problems.append(("ESP '%s'" % chosen.get("displayName"), (
                "%d ESPs carry this name (ids %s); the ESP module finds it by name and fails. Rename all but one.")
                % (len(same), ", ".join(sorted(e["id"] for e in same)))))
        for prop, default, option in ESP_KEPT:
            if chosen.get(prop) not in (None, default):
                self.notes.settings.append(("ESP '%s'" % chosen.get("displayName"), (
                    "%s is %s (intune_esp option %s); the role does not set it and keeps it.")
                    % (prop, str(chosen.get(prop)).lower(), option)))
        if chosen.get("roleScopeTagIds") not in DEFAULT_SCOPE_TAGS:
            self.notes.settings.append(("ESP '%s'" % chosen.get("displayName"), "Scope tags %s; the role does not set them "
                                        "and keeps them." % ", ".join(chosen.get("scope_tags") or chosen["roleScopeTagIds"])))
        for _var, prop in ESP_VARS:
            if chosen.get(prop) is None and prop != "customErrorMessage":
                self.notes.changes.append(("ESP '%s'" % chosen.get("displayName"), (
                    "%s is not set in the tenant; the role sets its default.") % prop))
        return chosen

    # -- devices ----------------------------------------------------------------------------------------------
    def _devices(self):
        by_tag = {}
        for site in self.sites:
            by_tag.setdefault(lower(site["tag"]), []).append(site)
        by_serial = {}
        for device in self.devices:
            by_serial.setdefault((device.get("serialNumber") or "").strip().upper(), []).append(device)
        for serial, found in sorted(by_serial.items()):
            tag = found[0].get("groupTag") or ""
            if len(found) > 1:
                self.notes.devices.append(("serial '%s'" % serial, (
                    "Registered %d times (ids %s); the device module refuses to update such a serial, so no site lists it.")
                    % (len(found), ", ".join(sorted(d.get("id") or "?" for d in found)))))
            elif not tag:
                self.notes.devices.append(("serial '%s'" % serial, "No group tag, so no site."))
            elif lower(tag) not in by_tag:
                self.notes.devices.append(("serial '%s'" % serial, "Group tag '%s' belongs to no site." % tag))
            else:
                for site in by_tag[lower(tag)]:
                    self._add_device(site, found[0])
        for site in self.sites:
            if site["waiting"]:
                self.notes.settings.append(("site '%s'" % site["name"], (
                    "%d device(s) have no deployment profile assigned (%s); the export sets user_driven_join_wait_for_profile: "
                    "false, so that the role does not wait for them. Remove it once Intune assigns their profile.")
                    % (len(site["waiting"]), ", ".join("%s: %s" % (serial, status or "unknown")
                                                       for serial, status in site["waiting"]))))

    @staticmethod
    def _add_device(site, device):
        entry = {"serial_number": device.get("serialNumber")}
        if (device.get("groupTag") or "") != site["tag"]:
            entry["group_tag"] = device["groupTag"]
        if device.get("displayName"):
            entry["display_name"] = device["displayName"]
        site["devices"].append(entry)
        if device.get("userPrincipalName"):
            user = {"serial_number": device.get("serialNumber"), "assigned_user": device["userPrincipalName"]}
            if device.get("addressableUserName"):
                user["addressable_user_name"] = device["addressableUserName"]
            site["users"].append(user)
        status = device.get("deploymentProfileAssignmentStatus")
        if status not in ASSIGNED:
            site["waiting"].append((device.get("serialNumber"), status))

    # -- groups -----------------------------------------------------------------------------------------------
    def _other_groups(self):
        managed = set([self.tenant_group.get("id")] + [s["group"]["id"] for s in self.sites])
        for group in sorted(self.groups, key=lambda g: (lower(g.get("displayName")), g["id"])):
            rule = group.get("membershipRule") or ""
            if group["id"] in managed or is_all_autopilot(rule):
                continue
            tag = group_tag(rule)
            if tag:
                reason = "Selects group tag '%s', but no user-driven Microsoft Entra join profile is assigned to it." % tag
            elif AUTOPILOT_RULE.search(rule):
                reason = "An Autopilot device rule that selects neither all devices nor one group tag: %s" % rule
            else:
                continue
            self.notes.groups.append(("group '%s'" % group.get("displayName"), reason))

    def _dangling_groups(self):
        """Assignments to a group ``_info`` could not name (it shows the id): deleted, or no permission to read it."""
        owners = [("ESP '%s'" % self.esp.get("displayName"), self.esp)] if self.esp else []
        owners += [(self._profile_label(s["profile"]), s["profile"]) for s in self.sites]
        seen = set()
        for label, obj in owners:
            for entry in obj.get("assignments") or []:
                if is_guid(entry.get("group") or "") and (label, entry["group"]) not in seen:
                    seen.add((label, entry["group"]))
                    self.notes.problems.append((label, (
                        "Assigned to group id %s, whose name could not be read. Either the group was deleted: the "
                        "role then fails on it, so remove the entry (the role then removes the assignment) or restore "
                        "the group; or the export ran without Group.Read.All: run it again with it.") % entry["group"]))

    # -- role variables ---------------------------------------------------------------------------------------
    def tenant_vars(self):
        group = self.tenant_group
        out = [("user_driven_join_tenant_group_name", group.get("displayName")),
               ("user_driven_join_tenant_group_description", group.get("description") or "")]
        esp = self.esp
        if esp is None:
            return out
        out += [("user_driven_join_esp_name", esp.get("displayName")),
                ("user_driven_join_esp_description", esp.get("description") or "")]
        for var, prop in ESP_VARS:
            if esp.get(prop) is not None:
                out.append(("user_driven_join_esp_" + var, esp[prop]))
        out += [("user_driven_join_esp_selected_apps", list(esp.get("selectedMobileAppIds") or [])),
                ("user_driven_join_esp_priority", esp.get("priority")),
                ("user_driven_join_esp_assignments", list(esp.get("assignments") or []))]
        return out

    def _site_settings(self, site):
        """The site's group and profile variables; a setting the profile does not hold is left to the role's default."""
        group, profile = site["group"], site["profile"]
        oobe_now = profile.get("outOfBoxExperienceSetting") or {}
        oobe_old = profile.get("outOfBoxExperienceSettings") or {}
        out = [("user_driven_join_group_tag", site["tag"]),
               ("user_driven_join_group_name", group.get("displayName")),
               ("user_driven_join_group_description", group.get("description") or ""),
               ("user_driven_join_profile_name", profile.get("displayName")),
               ("user_driven_join_profile_description", profile.get("description") or ""),
               ("user_driven_join_locale", pick(profile, "locale", "language") or "os-default"),
               ("user_driven_join_device_name_template", profile.get("deviceNameTemplate") or "")]
        for var, current, deprecated in OOBE:
            value = oobe_now.get(current)
            out.append(("user_driven_join_" + var, oobe_old.get(deprecated) if value is None else value))
        out += [("user_driven_join_preprovisioning_allowed", pick(profile, "preprovisioningAllowed", "enableWhiteGlove")),
                ("user_driven_join_hardware_hash_extraction_enabled",
                 pick(profile, "hardwareHashExtractionEnabled", "extractHardwareHash")),
                ("user_driven_join_device_type", profile.get("deviceType")),
                ("user_driven_join_profile_assignments", list(profile.get("assignments") or []))]
        for var, value in out:
            if value is None:
                self.notes.changes.append((self._profile_label(profile), "%s is not set in the tenant; the role sets "
                                           "its default (variable %s)." % (var[len("user_driven_join_"):], var)))
        return [(k, v) for k, v in out if v is not None]

    @staticmethod
    def site_vars(site):
        out = list(site["vars"])
        out += [("user_driven_join_devices", sorted(site["devices"], key=lambda d: (d["serial_number"] or "").upper())),
                ("user_driven_join_users", sorted(site["users"], key=lambda d: (d["serial_number"] or "").upper()))]
        if site["waiting"]:
            out.append(("user_driven_join_wait_for_profile", False))
        return out

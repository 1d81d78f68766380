# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The preflight and the summary of the role user_driven_join, on the controller.

The role's preflight runs every step's module in check mode for every site and registers what each answered
(``__user_driven_join_<step>_result``), and each site publishes its settings (``__user_driven_join_site``). These filters
read them for every site of the play from ``hostvars``, translate the modules' option names into the role's
variables, add the rules that only the whole play can see (a tenant-wide variable that differs between sites, a
serial in two sites, a group tag no profile targets, a group that neither exists nor is created by the role), and
say for each site whether it stops. ``step_summary`` turns one step's registered result into one line.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

from ansible.errors import AnsibleError

from ansible_collections.intune.autopilot.plugins.module_utils._membership_rule import group_tag, is_all_autopilot

STEPS = ("group", "esp", "profile", "devices", "users")

# Each step: the registered result(s) of the preflight, and the module options the role fills from its variables.
ESP_OPTIONS = ("show_installation_progress", "install_progress_timeout_in_minutes", "custom_error_message",
               "allow_log_collection_on_install_failure", "track_install_progress_for_autopilot_only",
               "install_quality_updates", "block_device_setup_retry_by_user", "allow_device_reset_on_install_failure",
               "allow_device_use_on_install_failure", "selected_apps", "assignments", "priority")
OOBE = ("user_type", "privacy_settings_hidden", "eula_hidden", "escape_link_hidden", "keyboard_selection_page_skipped")
PROFILE_OPTIONS = ("locale", "device_name_template", "device_type", "preprovisioning_allowed",
                   "hardware_hash_extraction_enabled")
RESULTS = (
    ("group", "__user_driven_join_tenant_group_result", {
        "display_name": "user_driven_join_tenant_group_name", "description": "user_driven_join_tenant_group_description"}),
    ("group", "__user_driven_join_group_result", {
        "display_name": "user_driven_join_group_name", "description": "user_driven_join_group_description",
        "autopilot_group_tag": "user_driven_join_group_tag"}),
    ("esp", "__user_driven_join_esp_result", dict(
        [("display_name", "user_driven_join_esp_name"), ("description", "user_driven_join_esp_description")]
        + [(o, "user_driven_join_esp_" + o) for o in ESP_OPTIONS])),
    ("profile", "__user_driven_join_profile_result", dict(
        [("display_name", "user_driven_join_profile_name"), ("description", "user_driven_join_profile_description"),
         ("assignments", "user_driven_join_profile_assignments")]
        + [(o, "user_driven_join_" + o) for o in PROFILE_OPTIONS]
        + [("out_of_box_experience_setting.%s" % o, "user_driven_join_" + o) for o in OOBE])),
    ("devices", "__user_driven_join_devices_result", {
        "devices": "user_driven_join_devices", "csv_path": "user_driven_join_devices_csv",
        "wait_timeout": "user_driven_join_wait_timeout", "poll_interval": "user_driven_join_poll_interval"}),
    ("users", "__user_driven_join_users_result", {"devices": "user_driven_join_users"}),
)
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def in_role_terms(message, names):
    """``message`` of a module with its option names replaced by the role's variables (longest option first)."""
    for option in sorted(names, key=len, reverse=True):
        message = re.sub(r"(?<![\w.\[])%s(?!\w)" % re.escape(option), names[option], message)
    return message


def module_problems(result, names):
    """What a failed check-mode run of a module reported: its ``problems`` (every one), else its message."""
    if not isinstance(result, dict) or not result.get("failed"):
        return []
    found = result.get("problems") or [result.get("msg") or "failed without a message"]
    return [in_role_terms(str(p), names) for p in found]


def normalized(value):
    """Extra vars and survey answers are strings: "false" and false, "2" and 2 are the same setting."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "yes", "on"):
            return True
        if text in ("false", "no", "off"):
            return False
        if re.match(r"^-?\d+$", text):
            return int(text)
    return value


def serial_key(serial):
    return (serial or "").strip().upper()


def devices_of(result):
    """``[(serial, group tag, has an id)]`` of the devices a check-mode result plans to keep or register."""
    if not isinstance(result, dict) or result.get("failed") or result.get("skipped"):
        return []
    found = []
    for item in result.get("devices") or []:
        if item.get("action") in ("deleted", "absent"):
            continue
        device = item.get("device") or {}
        found.append((item.get("serial_number"), device.get("groupTag") or "", bool(device.get("id"))))
    return found


class Play(object):
    """The preflight's view of every site of the play."""

    def __init__(self, hostvars, hosts_all, hosts):
        self.hostvars = hostvars
        self.all = list(hosts_all)
        self.hosts = [h for h in self.all if h in hosts]
        self.sites = dict((h, self._get(h, "__user_driven_join_site") or {}) for h in self.hosts)
        self.first = self.sites[self.hosts[0]] if self.hosts else {}

    def _get(self, host, name):
        try:
            return self.hostvars[host].get(name)
        except (KeyError, AttributeError):
            return None

    def steps(self, host):
        return self.sites[host].get("steps") or []

    def created_groups(self):
        """Display names (lower case) of the groups the role creates: the tenant group and every site's group.

        They are assumed even when this run's tags leave the group step out (``--tags profile``): the role's README
        says a step needs the earlier ones to have run once.
        """
        names = set([(self.first.get("tenant_group_name") or "").lower()])
        return names | set((s.get("group_name") or "").lower() for s in self.sites.values())

    def assigned_groups(self, host):
        """``[(variable, group)]`` assigned by the ESP (first host) or the site's profile, in this run's steps."""
        found = []
        if host == self.hosts[0] and "esp" in self.steps(host):
            found += [("user_driven_join_esp_assignments", a.get("group")) for a in self.first.get("esp_assignments") or []]
        if "profile" in self.steps(host) or "devices" in self.steps(host):
            found += [("user_driven_join_profile_assignments", a.get("group"))
                      for a in self.sites[host].get("profile_assignments") or [] if not a.get("exclude")]
        return [(v, g) for v, g in found if g]

    def lookups(self):
        """What the preflight reads once for the whole play: groups to look up, and the steps the tenant must allow."""
        created = self.created_groups()
        groups = sorted(set(g for h in self.hosts for _v, g in self.assigned_groups(h) if g.lower() not in created))
        needs = set()
        for host in self.hosts:
            site = self.sites[host]
            for step in self.steps(host):
                if step in ("group", "esp", "profile"):
                    needs.add(step)
                elif step == "devices" and site.get("has_devices"):
                    needs.add("devices")
                    if site.get("device_users"):
                        needs.add("users")
                elif step == "users" and site.get("has_users"):
                    needs.add("users")
            if host == self.hosts[0] and "esp" in self.steps(host) and site.get("esp_apps"):
                needs.add("esp_apps")
        return {"groups": [{"name": g, "id": bool(GUID.match(g))} for g in groups],
                "steps": [s for s in ("group", "esp", "esp_apps", "profile", "devices", "users") if s in needs]}

    def found_groups(self):
        """The groups the preflight found in the tenant, by display name and by id (lower case)."""
        looked = self._get(self.hosts[0], "__user_driven_join_groups_found") or {}
        found = {}
        for item in looked.get("results") or []:
            for group in item.get("groups") or []:
                found[(group.get("displayName") or "").lower()] = group
                found[(group.get("id") or "").lower()] = group
        return found

    def site_problems(self, host):
        site = self.sites[host]
        found = []
        unknown = site.get("unknown") or []
        if unknown:
            found.append("unknown variable(s) %s: the role would ignore them and use its defaults; check the spelling "
                         "against roles/user_driven_join/README.md" % ", ".join(sorted(unknown)))
        for step, name, names in RESULTS:
            result = self._get(host, name)
            if name in ("__user_driven_join_tenant_group_result", "__user_driven_join_esp_result") and host != self.hosts[0]:
                continue  # tenant-wide, checked once (run_once): reported with the play's problems
            found += ["[%s] %s" % (step, p) for p in module_problems(result, names)]
        found += self.missing_groups(host, "user_driven_join_profile_assignments")
        found += self.serials_in_other_sites(host) + self.users_without_device(host) + self.untargeted_tags(host)
        return found

    def missing_groups(self, host, variable):
        created, found = self.created_groups(), self.found_groups()
        return ["%s: no group named '%s' exists, and the role does not create it (the real run would fail); create it, "
                "or correct the name" % (v, g) for v, g in self.assigned_groups(host)
                if v == variable and g.lower() not in created and g.lower() not in found]

    def serials_in_other_sites(self, host):
        mine = dict((serial_key(s), s) for s, _t, _i in devices_of(self._get(host, "__user_driven_join_devices_result")))
        found = []
        for other in self.hosts:
            if other == host:
                continue
            theirs = set(serial_key(s) for s, _t, _i in devices_of(self._get(other, "__user_driven_join_devices_result")))
            both = sorted(mine[k] for k in set(mine) & theirs)
            if both:
                found.append("serial(s) %s are devices of site %s too: each run would give them the other site's "
                             "group tag; keep every device in one site" % (", ".join(both), other))
        return found

    def users_without_device(self, host):
        imported = set(serial_key(s) for h in self.hosts for s, _t, _i in devices_of(self._get(h, "__user_driven_join_devices_result")))
        missing = sorted(s for s, _t, has_id in devices_of(self._get(host, "__user_driven_join_users_result"))
                         if not has_id and serial_key(s) not in imported)
        if not missing:
            return []
        return ["user_driven_join_users: serial(s) %s are not registered and no site of this run imports them; the "
                "users step would fail: add them to user_driven_join_devices (or the CSV), or remove them"
                % ", ".join(missing)]

    def coverage(self):
        """``(all, tags)``: whether every tag gets a profile, else the group tags (lower case) some profile targets."""
        tenant_group = (self.first.get("tenant_group_name") or "").lower()
        by_group = dict(((s.get("group_name") or "").lower(), s.get("group_tag") or "") for s in self.sites.values())
        created, found, tags = self.created_groups(), self.found_groups(), set()
        for site in self.sites.values():
            for target in site.get("profile_assignments") or []:
                group = (target.get("group") or "").lower()
                if target.get("exclude"):
                    continue
                if normalized(target.get("all_devices")) is True or group == tenant_group:
                    return True, tags
                if group in by_group:
                    tags.add(by_group[group].lower())
                elif group and group not in created:
                    # A group of the tenant: its rule says which tag it selects. An assigned group, or a rule of
                    # another kind (a model, an order id range), may hold any device: no tag is then held against it.
                    rule = (found.get(group) or {}).get("membershipRule")
                    if not rule or is_all_autopilot(rule) or group_tag(rule) is None:
                        return True, tags
                    tags.add(group_tag(rule).lower())
        return False, tags

    def untargeted_tags(self, host):
        everything, tags = self.coverage()
        if everything:
            return []
        allowed = set(str(t).lower() for t in self.sites[host].get("tags_without_profile") or [])
        lost = {}
        for serial, tag, _i in devices_of(self._get(host, "__user_driven_join_devices_result")):
            if tag.lower() not in tags and tag.lower() not in allowed:
                lost.setdefault(tag, []).append(serial)
        return ["serial(s) %s: group tag '%s' matches no group this run assigns a deployment profile to (those select "
                "%s); the devices would never get a profile, and the profile_wait step would wait until "
                "user_driven_join_wait_timeout: correct the tag (user_driven_join_group_tag, the device's group_tag or "
                "the CSV's Group Tag column), or list it in user_driven_join_tags_without_profile"
                % (", ".join(sorted(serials)), tag, ", ".join(sorted(tags)) or "no group tag")
                for tag, serials in sorted(lost.items())]

    def play_problems(self):
        if not self.hosts:
            return []
        found = []
        readiness = self._get(self.hosts[0], "__user_driven_join_readiness") or {}
        found += ["[tenant] %s" % p for p in readiness.get("problems") or module_problems(readiness, {})]
        for step, name, names in RESULTS:
            if name in ("__user_driven_join_tenant_group_result", "__user_driven_join_esp_result"):
                found += ["[%s] %s" % (step, p) for p in module_problems(self._get(self.hosts[0], name), names)]
        found += self.missing_groups(self.hosts[0], "user_driven_join_esp_assignments")
        names = sorted(set(n for s in self.sites.values() for n in s.get("tenant_wide") or {}))
        for name in names:
            values = {}
            for host in self.hosts:
                value = json.dumps(normalized((self.sites[host].get("tenant_wide") or {}).get(name)), sort_keys=True)
                values.setdefault(value, []).append(host)
            if len(values) > 1:
                found.append("%s is tenant-wide but differs between sites: %s; it is written once per run with the first "
                             "site's value, so set it once for all sites (group_vars, not host_vars)" % (
                                 name, "; ".join("%s in %s" % (v, ", ".join(h)) for v, h in sorted(values.items()))))
        return found + self.outside_problems(names)

    def outside_problems(self, names):
        """With --limit: sites of the same inventory groups and tenant left out of the play that set a tenant-wide
        variable (in their inventory variables) to another value than this play writes. Values they take from the
        role's defaults are not seen here (a host outside the play has only its inventory variables)."""
        groups = set(g for h in self.hosts for g in (self._get(h, "group_names") or []))
        tenant = normalized((self.first.get("tenant_wide") or {}).get("user_driven_join_tenant_id") or "")
        mine = self.first.get("tenant_wide") or {}
        found = []
        for host in sorted(h for h in self.hostvars if h not in self.all):
            if not groups & set(self._get(host, "group_names") or []):
                continue
            if normalized(self._get(host, "user_driven_join_tenant_id") or "") != tenant:
                continue
            for name in names:
                try:
                    theirs = self._get(host, name)
                except AnsibleError:  # a value templated from what only the role defines: not comparable here
                    continue
                if theirs is not None and json.dumps(normalized(theirs), sort_keys=True) != json.dumps(
                        normalized(mine.get(name)), sort_keys=True):
                    found.append("%s is tenant-wide but site %s, left out of this play (--limit), sets %s while this play "
                                 "writes %s; the sites would undo each other's run: set it once for all sites (group_vars)"
                                 % (name, host, json.dumps(normalized(theirs)), json.dumps(normalized(mine.get(name)))))
        return found


def preflight_lookups(hostvars, hosts_all, hosts):
    """The groups to look up and the steps whose permissions to check, for the whole play."""
    return Play(hostvars, hosts_all, hosts).lookups()


def preflight_report(hostvars, hosts_all, hosts):
    """``{"sites": {site: [problem]}, "play": [problem], "dropped": [site], "stop": {site: bool}, "message": {site: str}}``."""
    play = Play(hostvars, hosts_all, hosts)
    sites = dict((h, play.site_problems(h)) for h in play.hosts)
    shared = play.play_problems()
    dropped = [h for h in play.all if h not in play.hosts]
    troubled = sorted([h for h, p in sites.items() if p] + dropped)
    stop, message = {}, {}
    for host in play.hosts:
        own = sites[host] + shared
        others = [h for h in troubled if h != host]
        keep_all = normalized(play.sites[host].get("stop_play")) is not False
        if own:
            stop[host] = True
            message[host] = "Preflight: site %s has %d problem(s); %s: %s" % (
                host, len(own), "no site of this play writes anything" if keep_all else "this site writes nothing",
                " ".join("(%d) %s" % (n, p) for n, p in enumerate(own, 1)))
        elif others and keep_all:
            stop[host] = True
            message[host] = ("Preflight: site %s has no problem, but site(s) %s have (see their messages%s), so no site "
                             "of this play writes anything; user_driven_join_preflight_stop_play: false lets healthy "
                             "sites go on" % (host, ", ".join(others), "; %s stopped before the preflight" % ", ".join(
                                 dropped) if dropped else ""))
        else:
            stop[host] = False
            message[host] = "Preflight: site %s has no problem" % host
    return {"sites": sites, "play": shared, "dropped": dropped, "stop": stop, "message": message}


def step_summary(result, step):
    """One line for a step's registered result: what its module did (or would do, in check mode)."""
    if not isinstance(result, dict) or result.get("skipped"):
        return "%s: not run" % step
    if "devices" in result:
        counts = dict(result.get("summary") or {})
        total = counts.pop("total", None)
        if step == "profile_wait":
            counts = {}
            for item in result["devices"]:
                status = (item.get("device") or {}).get("deploymentProfileAssignmentStatus") or ""
                state = "failed" if item.get("action") == "failed" else (
                    "assigned" if status.startswith("assigned") else "still waiting")
                counts[state] = counts.get(state, 0) + 1
        elif "pending" in counts:
            counts["still waiting"] = counts.pop("pending")
        parts = ["%d %s" % (n, k) for k, n in sorted(counts.items()) if n]
        text = "%s: %s" % (step, ", ".join(parts) or "no device")
        return text + (" (of %d)" % total if total else "") + (" - %s" % result.get("msg") if result.get("failed") else "")
    if result.get("failed"):
        return "%s: failed - %s" % (step, result.get("msg"))
    diff = result.get("diff") or {}
    before = diff.get("before") if isinstance(diff, dict) else None
    if not result.get("changed"):
        return "%s: unchanged" % step
    return "%s: %s" % (step, "created" if before in ({}, None) else "updated")


class FilterModule(object):
    def filters(self):
        return {"preflight_lookups": preflight_lookups, "preflight_report": preflight_report,
                "step_summary": step_summary}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The drift report of one run: what this collection's modules would change (check mode) or changed, the
objects nobody in the inventory manages that sit where it manages, and what failed.

Internal to this collection (used by the ``intune.autopilot.drift_report`` callback); it may change in any
release. Everything here works on plain data: a *record* is one task result as the callback saw it,
``{"host", "task", "action", "status", "result", "run_once", "ignored", "args"}``, with ``result`` the dict Ansible
hands to callbacks (``no_log`` results already censored by Ansible) and ``args`` the few task arguments the
callback keeps (see ``ARG_KEYS``): ansible-core 2.21 no longer puts ``invocation`` in results by default.

What is read from the modules' results (their RETURN documentation):

* ``intune_esp``, ``autopilot_profile``, ``aad_group``: ``changed`` and ``diff: {before, after}``, limited to
  the managed properties; an empty ``before`` is a create, an empty ``after`` a delete.
* ``autopilot_device``: ``devices``, one entry per requested serial with its ``action`` (``imported``,
  ``updated``, ``deleted``, ``pending``, ``failed``, ...) and, for ``updated``, ``changes``; the settings of an
  imported or deleted device come from ``diff``, keyed by serial.
* ``intune_esp_info``, ``autopilot_profile_info`` (``assignments`` by group name) and ``autopilot_device_info``
  (``groupTag``): the context for unmanaged objects (see :func:`unmanaged`).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

COLLECTION = "intune.autopilot."
MASK = "********"
# A value under a key named like this is never copied into a report, whatever the module returned.
SECRET_KEY = re.compile(r"secret|password|passphrase|token|private_?key|credential", re.IGNORECASE)
# Environment variables the modules read credentials from: their values are masked wherever they appear.
SECRET_ENV = ("AZURE_CLIENT_SECRET", "AZURE_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_PASSWORD")
DEVICE_ACTIONS = {"imported": "create", "pending": "create", "updated": "update", "deleted": "delete"}
STATE_CHANGING = ("intune_esp", "autopilot_profile", "aad_group", "autopilot_device")
ARG_KEYS = ("display_name", "id", "group_tag", "serial_number")
# The group tag a site's dynamic group selects: ``(device.devicePhysicalIds -any (_ -eq "[OrderID]:BER"))``.
TAG_RULE = re.compile(r'-eq\s+"\[OrderID\]:([^"]+)"', re.IGNORECASE)


def task_args(args):
    """The task arguments a record keeps: names, tags and serial numbers, never anything else (no secret, no hash)."""
    args = args if isinstance(args, dict) else {}
    kept = dict((key, args[key]) for key in ARG_KEYS if isinstance(args.get(key), str))
    if isinstance(args.get("devices"), list):
        kept["devices"] = [{"serial_number": d["serial_number"]} for d in args["devices"]
                           if isinstance(d, dict) and isinstance(d.get("serial_number"), str)]
    return kept


def module_name(action):
    """``intune.autopilot.intune_esp`` -> ``intune_esp``; None for a module of another collection."""
    action = action or ""
    return action[len(COLLECTION):] if action.startswith(COLLECTION) else None


def short_action(action):
    """The last part of a module name, for failures of other modules (``ansible.builtin.fail`` -> ``fail``)."""
    return (action or "").rsplit(".", 1)[-1]


def _flatten(value, prefix, out):
    if isinstance(value, dict) and value and prefix:
        for key in value:
            _flatten(value[key], "%s.%s" % (prefix, key), out)
    else:
        out[prefix] = value


def flatten(obj):
    """``{"a": {"b": 1}, "c": [2]}`` -> ``{"a.b": 1, "c": [2]}``: nested objects by path, lists whole."""
    out = {}
    for key in (obj or {}):
        _flatten(obj[key], str(key), out)
    return out


def property_changes(before, after):
    """``{property: {"before", "after"}}`` for every (flattened) property whose value differs."""
    old, new = flatten(before), flatten(after)
    return dict((key, {"before": old.get(key), "after": new.get(key)})
                for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key))


def _args(record, result):
    """The task's arguments: the callback's copy of the few it keeps, else the result's ``invocation`` (ansible-core
    2.19 returns it; 2.21 only with ``inject_invocation``), which is the only source for the items of a loop."""
    invocation = result.get("invocation")
    args = invocation.get("module_args") if isinstance(invocation, dict) else None
    if isinstance(args, dict):
        return args
    return {} if _is_loop(record) else (record.get("args") or {})


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _object_name(args, result, before, after):
    """The display name from the task's arguments, the diff or the returned object; else the id asked for."""
    for candidate in (args.get("display_name"), after.get("displayName"), before.get("displayName")):
        if candidate:
            return candidate
    for value in result.values():
        if isinstance(value, dict) and value.get("displayName"):
            return value["displayName"]
    return args.get("id")


def _is_loop(record):
    items = record["result"].get("results")
    return isinstance(items, list) and bool(items)


def _results(record):
    """The result of a task, or each item's result for a loop."""
    if _is_loop(record):
        return [item for item in record["result"]["results"] if isinstance(item, dict)]
    return [record["result"]]


def _base(record, module):
    return {"host": record["host"], "task": record["task"], "module": module,
            "tenant_wide": bool(record.get("run_once"))}


def _device_changes(record, result, module):
    diff = result.get("diff") if isinstance(result.get("diff"), dict) else {}
    before = (diff.get("before") or {}).get("devices") or {}
    after = (diff.get("after") or {}).get("devices") or {}
    changes, failures = [], []
    for device in result.get("devices") or []:
        if not isinstance(device, dict):
            continue
        serial = device.get("serial_number")
        action = device.get("action")
        if action == "failed":
            message = ": ".join(str(device[k]) for k in ("error_name", "error_message") if device.get(k))
            failures.append(dict(_base(record, module), object=serial, message=message or "failed"))
        elif action in DEVICE_ACTIONS:
            if action == "updated":
                properties = dict((k, {"before": v.get("before"), "after": v.get("after")})
                                  for k, v in sorted((device.get("changes") or {}).items()) if isinstance(v, dict))
            else:
                properties = property_changes(before.get(serial), after.get(serial))
            change = dict(_base(record, module), object=serial, action=DEVICE_ACTIONS[action], properties=properties)
            if action == "pending":
                change["pending"] = True
            changes.append(change)
    return changes, failures


def _object_change(record, result, module):
    diff = result.get("diff") if isinstance(result.get("diff"), dict) else {}
    before, after = diff.get("before") or {}, diff.get("after") or {}
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    action = "create" if after and not before else "delete" if before and not after else "update"
    return dict(_base(record, module), object=_object_name(_args(record, result), result, before, after), action=action,
                properties=property_changes(before, after))


def _result_changes(record, result, module):
    if "censored" in result:
        # no_log: Ansible hid the result; say that something changed, never what.
        if result.get("changed"):
            return [dict(_base(record, module), object=None, action="unknown", properties={}, censored=True)], []
        return [], []
    if module == "autopilot_device" and isinstance(result.get("devices"), list):
        return _device_changes(record, result, module)
    if result.get("changed"):
        return [_object_change(record, result, module)], []
    return [], []


def task_changes(record):
    """``(changes, failures)`` of one record (each a list of dicts); changes only for this collection's modules."""
    module = module_name(record["action"])
    changes, failures = [], []
    for result in _results(record):
        if module in STATE_CHANGING:
            found, failed = _result_changes(record, result, module)
            changes.extend(found)
            failures.extend(failed)
        if result.get("failed") if _is_loop(record) else record["status"] in ("failed", "unreachable"):
            failure = dict(_base(record, module or short_action(record["action"])),
                           object=_object_name(_args(record, result), result, {}, {}),
                           message=str(result.get("msg") or "failed"))
            if record.get("ignored"):
                failure["ignored"] = True
            failures.append(failure)
    return changes, failures


class _Context(object):
    """What the run manages: groups, ESP and profile names, group tags, serials; each with the managing host."""

    def __init__(self):
        self.groups = {}
        self.esps = set()
        self.profiles = set()
        self.tags = {}
        self.serials = set()

    def learn(self, record):
        module = module_name(record["action"])
        owner = (record["host"], bool(record.get("run_once")))
        for result in _results(record):
            args = _args(record, result)
            if module in ("aad_group", "intune_esp", "autopilot_profile"):
                name = _object_name(args, result, {}, (result.get("diff") or {}).get("after") or {})
                if module == "aad_group":
                    if name:
                        self.groups.setdefault(_lower(name), owner)
                    rule = (result.get("group") or {}).get("membershipRule") or ""
                    for tag in TAG_RULE.findall(rule):
                        self.tags.setdefault(tag.lower(), owner)
                elif name:
                    (self.esps if module == "intune_esp" else self.profiles).add(_lower(name))
            elif module == "autopilot_device":
                if args.get("group_tag"):
                    self.tags.setdefault(_lower(args["group_tag"]), owner)
                requested = [d.get("serial_number") for d in (args.get("devices") or []) if isinstance(d, dict)]
                requested += [d.get("serial_number") for d in (result.get("devices") or []) if isinstance(d, dict)]
                requested.append(args.get("serial_number"))
                self.serials.update(s.strip().upper() for s in requested if isinstance(s, str) and s.strip())


def _assigned_unmanaged(context, kind, module, obj, managed_names):
    """One entry per managing host for an ESP or profile assigned to a managed group it is not managed with."""
    if obj.get("is_default") or _lower(obj.get("displayName")) in managed_names:
        return []
    by_host = {}
    for assignment in obj.get("assignments") or []:
        group = assignment.get("group") if isinstance(assignment, dict) else None
        owner = context.groups.get(_lower(group))
        if owner:
            label = "%s (excluded)" % group if assignment.get("exclude") else group
            by_host.setdefault(owner, []).append(label)
    entries = []
    for (host, tenant_wide), groups in sorted(by_host.items()):
        details = dict((k, obj[k]) for k in ("priority", "locale", "deviceNameTemplate", "description")
                       if obj.get(k) not in (None, ""))
        entries.append({"host": host, "tenant_wide": tenant_wide, "kind": kind, "module": module,
                        "object": obj.get("displayName"), "id": obj.get("id"),
                        "where": "assigned to %s" % ", ".join("'%s'" % g for g in groups), "details": details})
    return entries


def unmanaged(records):
    """Objects that sit where the run manages but that no task of the run manages: reported, never touched.

    The run's own tasks say what it manages: the groups of its ``aad_group`` tasks and the group tags their
    dynamic rules select (``-eq "[OrderID]:<tag>"``), the ESP and profile names of its ``intune_esp`` and
    ``autopilot_profile`` tasks, the ``group_tag`` and the serials of its ``autopilot_device`` tasks. The ``_info``
    results of the run say what the tenant holds. Unmanaged are:
    ESPs (the built-in default one aside) and deployment profiles assigned (or excluded) to a managed group,
    other than the managed ones; Autopilot devices with a managed group tag (compared without case) whose
    serial no device task of the run asked for. Each is listed under the host whose task manages the group or
    the tag.
    """
    context = _Context()
    for record in records:
        if record["status"] == "ok":
            context.learn(record)
    found = {}
    for record in records:
        module = module_name(record["action"])
        if record["status"] != "ok" or module not in ("intune_esp_info", "autopilot_profile_info", "autopilot_device_info"):
            continue
        for result in _results(record):
            entries = []
            if module == "intune_esp_info":
                for esp in result.get("esps") or []:
                    entries += _assigned_unmanaged(context, "esp", "intune_esp", esp, context.esps)
            elif module == "autopilot_profile_info":
                for profile in result.get("profiles") or []:
                    entries += _assigned_unmanaged(context, "profile", "autopilot_profile", profile, context.profiles)
            else:
                for device in result.get("devices") or []:
                    owner = context.tags.get(_lower(device.get("groupTag")))
                    serial = (device.get("serialNumber") or "").strip()
                    if owner and serial.upper() not in context.serials:
                        details = dict((k, device[k]) for k in ("manufacturer", "model", "userPrincipalName",
                                                                "deploymentProfileAssignmentStatus")
                                       if device.get(k) not in (None, ""))
                        entries.append({"host": owner[0], "tenant_wide": owner[1], "kind": "device",
                                        "module": "autopilot_device", "object": serial, "id": device.get("id"),
                                        "where": "group tag '%s'" % device.get("groupTag"), "details": details})
            for entry in entries:
                found.setdefault((entry["kind"], entry["id"] or entry["object"], entry["host"]), entry)
    return [found[key] for key in sorted(found, key=lambda k: (k[2], k[0], str(found[k]["object"])))]


def _count(items, key):
    counts = {}
    for item in items:
        counts[item[key]] = counts.get(item[key], 0) + 1
    return counts


def summary(changes, unmanaged_objects, failures):
    """Counts for the top of the report: in all, per action, per module, per host."""
    result = {"changes": len(changes), "unmanaged": len(unmanaged_objects), "failures": len(failures),
              "devices": sum(1 for c in changes if c["module"] == "autopilot_device")}
    for action in ("create", "update", "delete"):
        result[action] = sum(1 for c in changes if c["action"] == action)
    unknown = sum(1 for c in changes if c["action"] == "unknown")
    if unknown:
        result["unknown"] = unknown
    result["modules"] = _count(changes, "module")
    hosts = {}
    for key, items in (("changes", changes), ("unmanaged", unmanaged_objects), ("failures", failures)):
        for host, count in _count(items, "host").items():
            hosts.setdefault(host, {"changes": 0, "unmanaged": 0, "failures": 0})[key] = count
    result["hosts"] = dict(sorted(hosts.items()))
    return result


def scrub(value, secrets, masked=False):
    """A copy of ``value`` with ``secrets`` cut out of every string and every value under a secret-looking key masked."""
    if isinstance(value, dict):
        return dict((k, scrub(v, secrets, masked or (isinstance(k, str) and bool(SECRET_KEY.search(k)))))
                    for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [scrub(v, secrets, masked) for v in value]
    if masked and value not in (None, ""):
        return MASK
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
    return value


def secrets_from(environ):
    """The credential values of the environment (longest first, so that one inside another is masked whole)."""
    values = set(environ.get(name) for name in SECRET_ENV)
    return sorted((v for v in values if v and len(v) >= 4), key=len, reverse=True)


def build(records, check_mode, status, playbook=None, started=None, finished=None, secrets=()):
    """The report of a run from its records.

    ``status``: ``ok`` (the run ended and no host failed), ``failed`` (a host failed or was unreachable) or
    ``interrupted`` (the run ended before Ansible's final stats). A failed or interrupted run keeps every
    change and failure seen until then.
    """
    changes, failures = [], []
    for record in records:
        found, failed = task_changes(record)
        changes.extend(found)
        failures.extend(failed)
    others = unmanaged(records)
    report = {
        "drift": bool(changes),
        "check_mode": bool(check_mode),
        "status": status,
        "playbook": playbook,
        "started": started,
        "finished": finished,
        "changes": changes,
        "unmanaged": others,
        "failures": failures,
        "summary": summary(changes, others, failures),
    }
    return scrub(report, secrets)

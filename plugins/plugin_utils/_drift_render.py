# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""drift.md and drift.html from a drift report (see ``_drift_report.build``).

Internal to this collection (used by the ``intune.autopilot.drift_report`` callback); it may change in any
release. Both documents hold the same facts, grouped the same way: the tenant-wide objects (tasks that run
once per play), then one section per host (a site of the user_driven_join role), each with its objects
(before and after side by side), its devices (a summary line and the list), the unmanaged objects and the
failures. The HTML page is self-contained: inline style, no script, no external asset.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import html
import json

VERBS = {True: {"create": "would create", "update": "would update", "delete": "would delete", "unknown": "would change"},
         False: {"create": "created", "update": "updated", "delete": "deleted", "unknown": "changed"}}
DEVICE_VERBS = {True: {"create": "to import", "update": "to update", "delete": "to delete", "unknown": "to change"},
                False: {"create": "imported", "update": "updated", "delete": "deleted", "unknown": "changed"}}
KINDS = {"esp": "Enrollment Status Page", "profile": "Deployment profile", "device": "Autopilot device"}
TENANT = "Tenant-wide"


def value_text(value):
    """A property value as one line of text: strings as they are, anything else as JSON; None is not set."""
    if value is None:
        return "(not set)"
    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(value, sort_keys=True)


def sections(report):
    """``[{"title", "host", "tenant_wide", "objects", "devices", "unmanaged", "failures"}]``: tenant-wide first,
    then the hosts in order of name."""
    found = {}
    for key in ("changes", "unmanaged", "failures"):
        for item in report.get(key) or []:
            tenant_wide = bool(item.get("tenant_wide"))
            title = TENANT if tenant_wide else item["host"]
            section = found.setdefault(title, {"title": title, "host": item["host"], "tenant_wide": tenant_wide,
                                               "objects": [], "devices": [], "unmanaged": [], "failures": []})
            if key == "changes":
                section["devices" if item["module"] == "autopilot_device" else "objects"].append(item)
            else:
                section[key].append(item)
    return [found[t] for t in sorted(found, key=lambda t: (t != TENANT, t))]


def device_counts(devices, check_mode):
    """``"1 to update, 3 to import"`` (check mode) or ``"1 updated, 3 imported"``."""
    counts = {}
    for device in devices:
        counts[device["action"]] = counts.get(device["action"], 0) + 1
    words = DEVICE_VERBS[bool(check_mode)]
    return ", ".join("%d %s" % (counts[a], words[a]) for a in ("create", "update", "delete", "unknown") if a in counts)


def headline(report):
    count = report["summary"]["changes"]
    if report["check_mode"]:
        if not count:
            return "No drift: the tenant matches the inventory"
        return "Drift: %d change%s would be made" % (count, "" if count == 1 else "s")
    if not count:
        return "Nothing changed"
    return "%d change%s made" % (count, "" if count == 1 else "s")


def status_text(report):
    if report["status"] == "failed":
        return "The run failed. This report holds what the run saw until then; see Failures."
    if report["status"] == "interrupted":
        return "The run ended early (interrupted). This report holds what the run saw until then."
    return None


def mode_text(report):
    return ("check mode (--check): what a run would change" if report["check_mode"]
            else "real run: what this run changed")


def _counts_line(summary):
    return ("%(changes)d changes (%(create)d create, %(update)d update, %(delete)d delete), %(devices)d of them "
            "devices; %(unmanaged)d unmanaged; %(failures)d failures" % summary)


# ------------------------------------------------------------------------------------------ Markdown

def _md(value):
    text = value_text(value).replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    return "`` %s ``" % text if "`" in text else "`%s`" % text


def _md_cell(text):
    return str(text).replace("\r", " ").replace("\n", " ").replace("|", "\\|")


def _md_properties(change):
    if change.get("censored"):
        return ["The task's result is hidden (no_log): what changed cannot be shown.", ""]
    if not change["properties"]:
        return ["The module reported a change, but no property differs in its diff.", ""]
    lines = ["| property | before | after |", "| --- | --- | --- |"]
    for name, values in change["properties"].items():
        lines.append("| %s | %s | %s |" % (_md_cell(name), _md(values.get("before")), _md(values.get("after"))))
    return lines + [""]


def to_markdown(report):
    """The report as Markdown, for a pull request or a ticket."""
    check = report["check_mode"]
    summary = report["summary"]
    lines = ["# Intune drift report", "", "**%s** (%s)." % (headline(report), mode_text(report)), ""]
    if status_text(report):
        lines += ["> **%s**" % status_text(report), ""]
    when = (report.get("playbook") or "-", report.get("started") or "-", report.get("finished") or "-", _counts_line(summary))
    lines += ["Playbook `%s`, from %s to %s. %s." % when, ""]
    parts = sections(report)
    if parts:
        lines += ["| section | changes | devices | unmanaged | failures |", "| --- | ---: | ---: | ---: | ---: |"]
        for part in parts:
            lines.append("| %s | %d | %d | %d | %d |" % (_md_cell(part["title"]), len(part["objects"]) + len(part["devices"]),
                                                         len(part["devices"]), len(part["unmanaged"]), len(part["failures"])))
        lines.append("")
    for part in parts:
        title = part["title"] + (" (tasks run once per play, by %s)" % part["host"] if part["tenant_wide"] else "")
        lines += ["## %s" % title, ""]
        for change in part["objects"]:
            lines += ["### %s %s `%s`" % (VERBS[check][change["action"]], change["module"], change["object"] or "?"), "",
                      "Task: %s" % _md_cell(change["task"]), ""]
            lines += _md_properties(change)
        if part["devices"]:
            lines += ["### Devices: %s" % device_counts(part["devices"], check), "",
                      "| serial | action | property | before | after |", "| --- | --- | --- | --- | --- |"]
            for device in part["devices"]:
                label = VERBS[check][device["action"]] + (" (import pending)" if device.get("pending") else "")
                rows = device["properties"].items() or [("-", {})]
                for name, values in rows:
                    lines.append("| %s | %s | %s | %s | %s |" % (
                        _md_cell(device["object"]), label, _md_cell(name),
                        _md(values.get("before")) if values else "", _md(values.get("after")) if values else ""))
            lines.append("")
        if part["unmanaged"]:
            lines += ["### Unmanaged (reported, never changed)", "", "| object | kind | where | details |",
                      "| --- | --- | --- | --- |"]
            for item in part["unmanaged"]:
                details = ", ".join("%s=%s" % (k, value_text(v)) for k, v in sorted(item["details"].items()))
                cells = (_md_cell(item["object"]), KINDS.get(item["kind"], item["kind"]), _md_cell(item["where"]), _md_cell(details))
                lines.append("| `%s` | %s | %s | %s |" % cells)
            lines.append("")
        if part["failures"]:
            lines += ["### Failures", ""]
            for failure in part["failures"]:
                lines.append("- %s%s (%s%s): %s" % (
                    _md_cell(failure["task"]), " `%s`" % failure["object"] if failure.get("object") else "",
                    failure["module"], ", ignored" if failure.get("ignored") else "", _md_cell(failure["message"])))
            lines.append("")
    if not parts:
        lines += ["Nothing to report: no task of this collection changed or would change anything.", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ HTML

STYLE = """
:root { --ink: #1f2328; --muted: #656d76; --line: #d0d7de; --bg: #f6f8fa; --create: #1a7f37; --update: #9a6700;
        --delete: #cf222e; --unmanaged: #8250df; --before: #ffebe9; --after: #dafbe1; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; }
header.top { padding: 20px 32px; background: var(--bg); border-bottom: 1px solid var(--line); }
h1 { margin: 0 0 4px; font-size: 22px; }
h2 { margin: 28px 0 8px; font-size: 18px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { margin: 16px 0 6px; font-size: 15px; }
main { padding: 8px 32px 32px; max-width: 1280px; }
.muted { color: var(--muted); }
.headline { font-size: 18px; font-weight: 600; margin: 6px 0; }
.headline.drift { color: var(--delete); } .headline.clean { color: var(--create); }
.banner { margin: 12px 0; padding: 10px 14px; border: 1px solid var(--delete); background: var(--before); border-radius: 6px; font-weight: 600; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0 4px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; background: #fff; min-width: 108px; }
.card b { display: block; font-size: 22px; }
.card.create b { color: var(--create); } .card.update b { color: var(--update); } .card.delete b { color: var(--delete); }
.card.unmanaged b { color: var(--unmanaged); } .card.failures b { color: var(--delete); }
table { border-collapse: collapse; width: 100%; margin: 4px 0 10px; }
table.props, table.devices { table-layout: fixed; }
table.props col.prop { width: 30%; } table.devices col.serial { width: 14%; } table.devices col.action { width: 12%; }
table.devices col.prop { width: 20%; }
table.counts { width: auto; min-width: 50%; } table.counts td, table.counts th { padding: 4px 14px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: var(--bg); font: 600 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
td.num { text-align: right; }
td.before { background: var(--before); } td.after { background: var(--after); }
td pre { margin: 0; white-space: pre-wrap; word-break: break-word; font: 12px/1.4 ui-monospace, SFMono-Regular, Consolas, monospace; }
th.prop { font-weight: 500; font-family: ui-monospace, SFMono-Regular, Consolas, monospace; font-size: 12px; }
.object { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.object .name { font-weight: 600; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; }
.badge.create { background: var(--create); } .badge.update { background: var(--update); }
.badge.delete, .badge.unknown { background: var(--delete); } .badge.unmanaged { background: var(--unmanaged); }
code { font: 12px ui-monospace, SFMono-Regular, Consolas, monospace; background: var(--bg); padding: 1px 4px; border-radius: 4px; }
details { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; margin: 10px 0; }
summary { cursor: pointer; font-weight: 600; }
nav a { margin-right: 12px; }
"""


def _e(value):
    return html.escape(str(value), quote=True)


def _cell(value, css):
    text = value_text(value)
    if isinstance(value, (dict, list)):
        text = json.dumps(value, indent=2, sort_keys=True)
    return '<td class="%s"><pre>%s</pre></td>' % (css, _e(text))


def _anchor(title):
    return "s-" + "".join(c if c.isalnum() else "-" for c in title.lower())


def _html_properties(change):
    if change.get("censored"):
        return '<p class="muted">The task\'s result is hidden (no_log): what changed cannot be shown.</p>'
    if not change["properties"]:
        return '<p class="muted">The module reported a change, but no property differs in its diff.</p>'
    rows = "".join('<tr><th class="prop">%s</th>%s%s</tr>' % (_e(name), _cell(v.get("before"), "before"),
                                                              _cell(v.get("after"), "after"))
                   for name, v in change["properties"].items())
    return ('<table class="props"><colgroup><col class="prop"><col><col></colgroup><thead><tr><th>property</th>'
            '<th>before</th><th>after</th></tr></thead><tbody>%s</tbody></table>' % rows)


def _html_devices(devices, check):
    rows = []
    for device in devices:
        props = list(device["properties"].items()) or [("-", None)]
        label = _e(VERBS[check][device["action"]]) + (" (import pending)" if device.get("pending") else "")
        for index, (name, values) in enumerate(props):
            head = ""
            if index == 0:
                head = ('<td rowspan="%d"><code>%s</code></td><td rowspan="%d"><span class="badge %s">%s</span></td>'
                        % (len(props), _e(device["object"]), len(props), _e(device["action"]), label))
            cells = (_cell(values.get("before"), "before") + _cell(values.get("after"), "after")) if values else "<td></td><td></td>"
            rows.append('<tr>%s<th class="prop">%s</th>%s</tr>' % (head, _e(name), cells))
    return ('<details class="devices"><summary>Devices: %s</summary><table class="devices"><colgroup><col class="serial">'
            '<col class="action"><col class="prop"><col><col></colgroup><thead><tr><th>serial</th><th>action</th>'
            '<th>property</th><th>before</th><th>after</th></tr></thead><tbody>%s</tbody></table></details>'
            % (_e(device_counts(devices, check)), "".join(rows)))


def _html_unmanaged(items):
    rows = "".join(
        '<tr><td><span class="badge unmanaged">unmanaged</span> <code>%s</code></td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
            _e(item["object"]), _e(KINDS.get(item["kind"], item["kind"])), _e(item["where"]),
            "<br>".join("%s: %s" % (_e(k), _e(value_text(v))) for k, v in sorted(item["details"].items())))
        for item in items)
    return ('<h3>Unmanaged (reported, never changed)</h3><table><thead><tr><th>object</th><th>kind</th><th>where</th>'
            '<th>details</th></tr></thead><tbody>%s</tbody></table>' % rows)


def _html_failures(failures):
    items = "".join("<li><b>%s</b>%s <span class=\"muted\">(%s%s)</span>: %s</li>" % (
        _e(f["task"]), " <code>%s</code>" % _e(f["object"]) if f.get("object") else "", _e(f["module"]),
        ", ignored" if f.get("ignored") else "", _e(f["message"])) for f in failures)
    return "<h3>Failures</h3><ul>%s</ul>" % items


def _html_section(part, check):
    title = part["title"]
    sub = (' <span class="muted">(tasks run once per play, by %s)</span>' % _e(part["host"])) if part["tenant_wide"] else ""
    out = ['<section id="%s"><h2>%s%s</h2>' % (_anchor(title), _e(title), sub)]
    for change in part["objects"]:
        out.append('<div class="object"><div><span class="badge %s">%s</span> <span class="name">%s</span> '
                   '<code>%s</code> <span class="muted">%s</span></div>%s</div>' % (
                       _e(change["action"]), _e(VERBS[check][change["action"]]), _e(change["object"] or "?"),
                       _e(change["module"]), _e(change["task"]), _html_properties(change)))
    if part["devices"]:
        out.append(_html_devices(part["devices"], check))
    if part["unmanaged"]:
        out.append(_html_unmanaged(part["unmanaged"]))
    if part["failures"]:
        out.append(_html_failures(part["failures"]))
    out.append("</section>")
    return "".join(out)


def to_html(report):
    """The report as one self-contained HTML page."""
    check = report["check_mode"]
    summary = report["summary"]
    parts = sections(report)
    cards = "".join('<div class="card %s"><b>%d</b>%s</div>' % (css, summary[key], _e(label)) for css, key, label in (
        ("", "changes", "changes"), ("create", "create", "create"), ("update", "update", "update"),
        ("delete", "delete", "delete"), ("", "devices", "devices"), ("unmanaged", "unmanaged", "unmanaged"),
        ("failures", "failures", "failures")))
    table = ""
    if parts:
        rows = "".join('<tr><td><a href="#%s">%s</a></td>%s</tr>' % (_anchor(p["title"]), _e(p["title"]), "".join(
            '<td class="num">%d</td>' % n for n in (len(p["objects"]) + len(p["devices"]), len(p["devices"]),
                                                    len(p["unmanaged"]), len(p["failures"])))) for p in parts)
        table = ('<table class="counts"><thead><tr><th>section</th><th>changes</th><th>devices</th><th>unmanaged</th>'
                 '<th>failures</th></tr></thead><tbody>%s</tbody></table>' % rows)
    banner = '<div class="banner">%s</div>' % _e(status_text(report)) if status_text(report) else ""
    body = "".join(_html_section(p, check) for p in parts) or (
        '<p class="muted">Nothing to report: no task of this collection changed or would change anything.</p>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>Intune drift report: %(headline)s</title><style>%(style)s</style></head><body>'
        '<header class="top"><h1>Intune drift report</h1>'
        '<div class="headline %(css)s">%(headline)s</div>'
        '<div class="muted">%(mode)s &middot; playbook <code>%(playbook)s</code> &middot; %(started)s to %(finished)s</div>'
        '%(banner)s<div class="cards">%(cards)s</div></header><main>%(table)s%(body)s</main></body></html>\n'
    ) % {"headline": _e(headline(report)), "style": STYLE, "css": "drift" if report["drift"] else "clean",
         "mode": _e(mode_text(report)), "playbook": _e(report.get("playbook") or "-"),
         "started": _e(report.get("started") or "-"), "finished": _e(report.get("finished") or "-"),
         "banner": banner, "cards": cards, "table": table, "body": body}

# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: registering Autopilot devices in one task versus one task per device.

Not a test: it prints figures and asserts nothing about time. Run with ``make bench`` (or
``.venv/bin/python bench/import_bench.py [--devices 1000] [--sample 20] [--page-size 1000]``).

Set-up: the Graph emulator with Intune's throttling on (100 writes and 1,000 requests per 20 s per app),
50 ms of latency on every request, its default import delay (5 s), and a page size of 1,000 (the page
size Intune is reported to use; pass --page-size 100 for the emulator's default). Then, each through the
real ansible-playbook:

1. one task importing N devices from a CSV file;
2. the same task again (a no-op: every device registered; must send no write);
3. one task importing N other devices with ``cleanup_import_records: false`` (the clean-up alone is
   N/20 ``$batch`` requests and N writes against Intune's 100 writes per 20 s);
4. one task per device (a loop) for a sample of S other devices;
5. with a deployment profile assigned to all devices and a service-side assignment delay of D seconds
   (``--assignment-delay``, several minutes), one task of N new devices with ``wait_for: profile_assigned``,
   once with the clean-up and once without: the clean-up runs while the task waits, so both take about D.

For each it prints Graph HTTP requests (the ``$batch`` POST counts once; token and discovery calls are not
Graph requests and are listed apart), Graph operations (each inner request of a ``$batch`` counted), writes,
throttled answers, wall time, per device, and the time over the write floor (the run's writes at Intune's
100 writes per 20 s, i.e. writes / 5 per second: no run that sends them can be faster).
"""

import argparse
import base64
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration import harness  # noqa: E402  (after the path set-up)


def hwid(serial):
    return base64.b64encode(hashlib.sha512(serial.encode()).digest() * 32).decode()  # 2 KiB, about a real 4K hash's size


def write_csv(path, serials):
    lines = ["Device Serial Number,Windows Product ID,Hardware Hash,Group Tag"]
    lines += ["%s,,%s,Bench" % (s, hwid(s)) for s in serials]
    path.write_text("\r\n".join(lines) + "\r\n")


def play(tasks):
    return json.dumps([{"name": "bench", "hosts": "localhost", "gather_facts": False, "tasks": tasks}], indent=1)


def measure(emulator, collections_path, playbook, devices):
    mark = emulator.mark()
    started = time.monotonic()
    result = harness.run_playbook(playbook, emulator=emulator, collections_path=collections_path, timeout=3600)
    elapsed = time.monotonic() - started
    entries = emulator.requests_since(mark)
    graph = [e for e in entries if (e.get("path") or "").startswith(("/beta", "/v1.0"))]
    http = [e for e in graph if not e.get("batch_request_id")]
    inner = [e for e in graph if e.get("batch_request_id")]
    operations = [e for e in http if not (e["path"].split("?")[0].endswith("/$batch"))] + inner
    figures = {
        "rc": result.rc,
        "devices": devices,
        "seconds": elapsed,
        "graph_requests": len(http),
        "graph_operations": len(operations),
        "writes": len(emulator.writes_since(mark)),
        "throttled": sum(1 for e in graph if e.get("status") == 429),
        "token_requests": sum(1 for e in entries if "/oauth2/" in (e.get("path") or "")),
        "by_kind": {},
    }
    for e in http:
        path = e["path"].split("?")[0]
        kind = "%s %s" % (e["method"], path.rsplit("/", 1)[-1] if e["method"] != "DELETE" else path.rsplit("/", 2)[-2] + "/{id}")
        figures["by_kind"][kind] = figures["by_kind"].get(kind, 0) + 1
    if result.rc != 0:
        figures["error"] = result.output[-2000:]
    return figures


def row(label, f):
    n = f["devices"]
    floor = f["writes"] / 5.0
    return "%-34s %8d %9.1f %10d %9.3f %11d %7d %9d %9.3f %7.1f %7s" % (
        label, n, f["seconds"], f["graph_requests"], f["graph_requests"] / float(n), f["graph_operations"], f["writes"],
        f["throttled"], f["seconds"] / float(n), floor, "%.2f" % (f["seconds"] / floor) if floor else "-")


def import_task(csv_path, poll_interval, **extra):
    return play([{"name": "Import", "intune.autopilot.autopilot_device": dict({
        "csv_path": str(csv_path), "poll_interval": poll_interval, "wait_timeout": 3000}, **extra)}])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--poll-interval", type=int, default=5)
    parser.add_argument("--assignment-delay", type=int, default=300, help="seconds until Intune assigns a new device's profile")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="import-bench-"))
    # The best-case profile with throttling on: the bench measures the module's pacing and waits against delays it sets
    # itself in wall-clock seconds (the import delay, --assignment-delay), not the realistic profile's scaled ones.
    emulator = harness.start_emulator("--throttle", "--latency-ms", args.latency_ms, "--page-size", args.page_size,
                                      workdir=work / "emulator", profile="best-case")
    try:
        collections_path = harness.make_collections_path(work / "collections")
        serials = ["BENCH%05d" % i for i in range(args.devices)]
        csv_path = work / "devices.csv"
        write_csv(csv_path, serials)
        bulk = import_task(csv_path, args.poll_interval)
        one = measure(emulator, collections_path, bulk, args.devices)
        noop = measure(emulator, collections_path, bulk, args.devices)

        kept_csv = work / "devices-kept.csv"
        write_csv(kept_csv, ["KEEP%05d" % i for i in range(args.devices)])
        kept = measure(emulator, collections_path, import_task(kept_csv, args.poll_interval, cleanup_import_records=False),
                       args.devices)

        sample = [{"serial_number": "SAMPLE%03d" % i, "hardware_identifier": hwid("SAMPLE%03d" % i)} for i in range(args.sample)]
        per_device = play([{"name": "Import one", "intune.autopilot.autopilot_device": {
            "serial_number": "{{ item.serial_number }}", "hardware_identifier": "{{ item.hardware_identifier }}",
            "group_tag": "Bench", "poll_interval": 1, "wait_timeout": 600}, "loop": sample,
            "loop_control": {"label": "{{ item.serial_number }}"}}])
        each = measure(emulator, collections_path, per_device, args.sample)

        profile = harness.run_playbook(play([{"name": "Profile for every device", "intune.autopilot.autopilot_profile": {
            "display_name": "Bench profile", "assignments": [{"all_devices": True}]}}]),
            emulator=emulator, collections_path=collections_path, timeout=600)
        profile.assert_ok()
        emulator.control("PATCH", "settings", {"profile_assignment_delay": args.assignment_delay})
        waits = {}
        for label, cleanup in (("clean-up on", True), ("clean-up off", False)):
            wait_csv = work / ("devices-wait-%s.csv" % cleanup)
            write_csv(wait_csv, ["W%s%05d" % ("C" if cleanup else "K", i) for i in range(args.devices)])
            waits[label] = measure(emulator, collections_path, import_task(
                wait_csv, args.poll_interval, wait_for="profile_assigned", cleanup_import_records=cleanup), args.devices)
    finally:
        emulator.stop()

    print("Emulator: --throttle (100 writes / 1,000 requests per 20 s), --latency-ms %d, --page-size %d, import delay 5 s"
          % (args.latency_ms, args.page_size))
    header = ("run", "devices", "seconds", "requests", "req/dev", "operations", "writes", "throttled", "s/dev", "floor", "/floor")
    print("%-34s %8s %9s %10s %9s %11s %7s %9s %9s %7s %7s" % header)
    print(row("one task, %d devices" % args.devices, one))
    print(row("same task again (no-op)", noop))
    print(row("one task, import records kept", kept))
    print(row("one task per device (sample)", each))
    for label, f in waits.items():
        print(row("profile wait %ds, %s" % (args.assignment_delay, label), f))
    print("profile wait of %d s: %.1f s with the clean-up, %.1f s without (clean-up adds %.1f s)" % (
        args.assignment_delay, waits["clean-up on"]["seconds"], waits["clean-up off"]["seconds"],
        waits["clean-up on"]["seconds"] - waits["clean-up off"]["seconds"]))
    ratio = (each["seconds"] / each["devices"]) / (one["seconds"] / one["devices"])
    print("time per device, one task per device / one task: %.1fx" % ratio)
    print("requests by kind, one task: %s" % json.dumps(one["by_kind"], sort_keys=True))
    print("requests by kind, no-op:    %s" % json.dumps(noop["by_kind"], sort_keys=True))
    print("requests by kind, records kept: %s" % json.dumps(kept["by_kind"], sort_keys=True))
    print("requests by kind, per device (all %d tasks): %s" % (args.sample, json.dumps(each["by_kind"], sort_keys=True)))
    runs = [("one task", one), ("no-op", noop), ("records kept", kept), ("per device", each)] + sorted(waits.items())
    for label, f in runs:
        if f["rc"] != 0:
            print("%s FAILED:\n%s" % (label, f.get("error")))
    return 0 if all(f["rc"] == 0 for _label, f in runs) and noop["writes"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

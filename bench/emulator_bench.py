"""Benchmark: authenticated Graph GETs per second on one keep-alive connection.

Starts ``python -m tests.graph_emulator`` as a subprocess (as the demo runs it), takes a token for the
default app, then sends sequential GETs with one ``requests.Session`` (one TLS keep-alive connection)
and prints a table. A script, not a test: figures vary with the machine.

    .venv/bin/python bench/emulator_bench.py [--requests 1000] [--warmup 50] [--runs 3]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATHS = tuple(os.environ.get("BENCH_PATHS", "/v1.0/users|/v1.0/groups?$top=5|/beta/users?$filter=startswith(displayName,'A')").split("|"))


class PinnedSession(requests.Session):
    def __init__(self, ca_path):
        super().__init__()
        self.ca_path = ca_path

    def request(self, method, url, **kwargs):
        kwargs.setdefault("verify", self.ca_path)
        return super().request(method, url, **kwargs)


def cpu_seconds(pid):
    """utime + stime of a process, from /proc (Linux)."""
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(session, url, headers, count, pid):
    timings = []
    server_cpu, client_cpu = cpu_seconds(pid), time.process_time()
    start = time.perf_counter()
    for _dummy in range(count):
        began = time.perf_counter()
        answer = session.get(url, headers=headers)
        timings.append(time.perf_counter() - began)
        if answer.status_code != 200:
            raise SystemExit("GET %s answered %d: %s" % (url, answer.status_code, answer.text[:200]))
    elapsed = time.perf_counter() - start
    server_cpu, client_cpu = cpu_seconds(pid) - server_cpu, time.process_time() - client_cpu
    timings.sort()
    return (count / elapsed, timings[len(timings) // 2] * 1000, timings[int(len(timings) * 0.95)] * 1000,
            server_cpu / count * 1000, count / (server_cpu + client_cpu))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "tests.graph_emulator"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        ready = json.loads(proc.stdout.readline())
        startup = time.perf_counter() - started
        session = PinnedSession(ready["ca_path"])
        token = session.post("%s/%s/oauth2/v2.0/token" % (ready["url"], ready["tenant_id"]),
                             data={"grant_type": "client_credentials", "client_id": ready["client_id"],
                                   "client_secret": ready["client_secret"],
                                   "scope": "https://graph.microsoft.com/.default"}).json()["access_token"]
        headers = {"Authorization": "Bearer " + token}
        print("emulator start -> ready line: %.2f s" % startup)
        print("%-50s %8s %8s %8s %12s %12s" % ("path (one keep-alive connection)", "req/s", "p50 ms", "p95 ms",
                                               "server CPU ms", "CPU-bound/s"))
        for path in PATHS:
            url = ready["url"] + path
            run(session, url, headers, args.warmup, proc.pid)
            results = [run(session, url, headers, args.requests, proc.pid) for _dummy in range(args.runs)]
            print("%-50s %8.0f %8.2f %8.2f %12.2f %12.0f" % ((path,) + tuple(statistics.median(r[i] for r in results)
                                                                             for i in range(5))))
        print("(median of %d runs of %d sequential GETs each; 'CPU-bound/s' = requests per second of CPU spent by\n"
              " client and server together - the rate on an idle machine, independent of other load; load average "
              "now %.1f)" % (args.runs, args.requests, os.getloadavg()[0]))
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()

"""``python -m tests.graph_emulator``: run the emulator until SIGTERM / SIGINT (or stdin EOF with --stdin-eof).

Once listening it prints one JSON line on stdout (url, ca_path, tenant_id, client_id, client_secret,
cert_client_id, cert_path, ...) and flushes. On SIGTERM it stops and saves the state when --state is given.
"""

import argparse
import json
import signal
import sys
import threading

from . import profiles
from .server import Emulator


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.graph_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state", help="tenant JSON file: loaded at start if it exists, saved at stop")
    parser.add_argument("--request-log", help="append every request as one JSON line to this file")
    parser.add_argument("--profile", choices=profiles.NAMES,
                        help="timing profile (default %s): realistic = the service's documented and reported delays and "
                             "refusals, best-case = instant; README.md lists both" % profiles.DEFAULT_PROFILE)
    parser.add_argument("--time-scale", type=float, help="service seconds per emulator second (realistic: 60)")
    parser.add_argument("--seed", type=int, help="seed of the fault generator and of the $batch order (default 0)")
    parser.add_argument("--page-size", type=int, help="items per page (default 100)")
    parser.add_argument("--latency-ms", type=int, help="added to every Graph answer (default 0)")
    parser.add_argument("--fault-rate", type=float, help="probability of an injected fault per Graph request (default 0)")
    parser.add_argument("--throttle", action=argparse.BooleanOptionalAction,
                        help="Intune's 100 writes / 1000 requests per 20 s on Intune routes, Entra's resource units on "
                             "directory routes (realistic: on)")
    parser.add_argument("--import-delay", type=float, help="service seconds until an import completes (realistic: 90)")
    parser.add_argument("--replication-delay", type=float, help="service seconds a new object stays out of lists")
    parser.add_argument("--workdir", help="directory for ca.pem and client.pem (default: a temporary directory)")
    parser.add_argument("--stdin-eof", action="store_true", help="also stop when stdin reaches end of file")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("the emulator only listens on the loopback interface")
    emulator = Emulator(host=args.host, port=args.port, state=args.state, request_log=args.request_log,
                        workdir=args.workdir, profile=args.profile, time_scale=args.time_scale, seed=args.seed,
                        page_size=args.page_size, latency_ms=args.latency_ms, fault_rate=args.fault_rate,
                        throttle=args.throttle, import_delay=args.import_delay, replication_delay=args.replication_delay)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    emulator.start()
    sys.stdout.write(json.dumps(emulator.ready_line()) + "\n")
    sys.stdout.flush()
    if args.stdin_eof:
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    while not stop.wait(0.5):
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

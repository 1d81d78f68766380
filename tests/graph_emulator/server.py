"""Transport: HTTPS on 127.0.0.1 with the standard library, and the :class:`Emulator` that runs it.

Shape chosen by our own measurement (1,000 sequential GETs on one ``requests.Session`` keep-alive connection,
client and server on 2 cores; the comparison runs are not in this repository, bench/emulator_bench.py measures the
server as built):

* ``ThreadingHTTPServer`` with ``protocol_version = "HTTP/1.1"`` and ``disable_nagle_algorithm = True``
  (without TCP_NODELAY every keep-alive request stalls ~40 ms on Nagle + delayed ACK: 23 req/s);
* TLS wrapped per connection in ``finish_request`` - in the worker thread - not on the listening socket
  (a client that connects and sends nothing would block the accept loop);
* ``daemon_threads``, a handler ``timeout`` so idle keep-alive threads end, ``handle_error`` silent for
  TLS and connection errors (clients that hang up are normal, e.g. the ``drop`` fault).
"""

import json
import os
import secrets
import shutil
import socket
import ssl
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import certs
from .app import DROP, GraphApp


DEFAULT_APP = "Graph emulator default app"


class Headers(dict):
    """Request headers with case-insensitive ``get`` (the email-based parser of http.server costs more
    than the rest of a Graph request; this one only splits lines)."""

    def __init__(self, pairs):
        super().__init__(pairs)
        self._lower = {k.lower(): v for k, v in pairs}

    def get(self, name, default=None):
        return self._lower.get(name.lower(), default)

    def __getitem__(self, name):
        return self._lower.get(name.lower())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 120
    server_version = "GraphEmulator/1.0"
    sys_version = ""
    max_headers = 100

    def parse_request(self):
        """The request line and headers (HTTP/1.1 keep-alive unless ``Connection: close``)."""
        self.command = None
        self.request_version = self.default_request_version
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if len(words) != 3 or not words[2].startswith("HTTP/1."):
            self.send_error(400, "Bad request syntax (%r)" % self.requestline)
            return False
        self.command, self.path, self.request_version = words
        pairs = []
        while True:
            line = self.rfile.readline(65537)
            if len(line) > 65536 or len(pairs) > self.max_headers:
                self.send_error(431, "Request header fields too large")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            name, sep, value = str(line, "iso-8859-1").partition(":")
            if not sep:
                self.send_error(400, "Bad header line")
                return False
            pairs.append((name.strip(), value.strip()))
        self.headers = Headers(pairs)
        connection = (self.headers.get("Connection") or "").lower()
        if self.request_version == "HTTP/1.1" and connection != "close":
            self.close_connection = False
        elif connection == "keep-alive":
            self.close_connection = False
        if (self.headers.get("Expect") or "").lower() == "100-continue" and not self.handle_expect_100():
            return False
        return True

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
        outcome = self.server.app.handle_http(self.command, self.path, self.headers, raw, "https://" + host)
        if outcome is DROP:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        status, headers, payload = outcome
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        # end_headers() plus the body in one write: one TLS record, one send per answer
        self._headers_buffer.append(b"\r\n" + (payload if self.command != "HEAD" else b""))
        self.flush_headers()

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format, *args):  # noqa: A002 - the request log replaces stderr logging
        pass


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, app, context):
        self.app = app
        self.context = context
        super().__init__(address, Handler)

    def finish_request(self, request, client_address):
        request.settimeout(Handler.timeout)
        try:
            conn = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, (ssl.SSLError, ConnectionError, TimeoutError, OSError)):
            return
        super().handle_error(request, client_address)


class Emulator:
    """The emulator in a background thread: ``Emulator(**settings).start()`` or ``with Emulator() as emu``.

    Keyword arguments: ``host``, ``port``, ``state`` (JSON file loaded at start if present, saved at
    stop), ``request_log`` (JSON Lines file), ``workdir`` (for ca.pem etc.; a temporary directory by
    default) and tenant settings (``profile`` = ``realistic`` or ``best-case``, ``time_scale``, ``page_size``,
    ``replication_delay``, ``import_delay``, ``latency_ms``, ``fault_rate``, ``throttle``, ``seed`` ...; profiles.py).
    """

    def __init__(self, host="127.0.0.1", port=0, state=None, request_log=None, workdir=None, **settings):
        self.host, self.port = host, port
        self.state_path = state
        self.request_log = request_log
        self.settings = settings
        self._own_workdir = workdir is None
        self.workdir = workdir
        self.server = None
        self.thread = None
        self.app = None

    def start(self):
        if self._own_workdir:
            self.workdir = tempfile.mkdtemp(prefix="graph-emulator-")
        os.makedirs(self.workdir, exist_ok=True)
        self.ca_path, cert_path, key_path = certs.make_server_tls(self.workdir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        self.app = GraphApp(self.settings, self.request_log)
        if self.state_path and os.path.exists(self.state_path):
            with open(self.state_path, encoding="utf-8") as handle:
                self.app.load(json.load(handle))
        registry = self.app.registry
        default = next((a for a in registry.apps.values() if a.display_name == DEFAULT_APP and a.secret), None)
        if default is None:
            default = registry.register(display_name=DEFAULT_APP, secret=secrets.token_urlsafe(30))
        client_cert = certs.make_client_cert(os.path.join(self.workdir, "client.pem"), "graph-emulator-client")
        cert_app = registry.register(display_name="Graph emulator certificate app", cert=client_cert)
        cert_app.ephemeral = True  # a new key pair every start: not kept in --state
        self.client_id, self.client_secret = default.client_id, default.secret
        self.cert_client_id, self.cert_path = cert_app.client_id, client_cert["path"]
        self.cert_thumbprint = client_cert["sha1_hex"]
        self.server = TLSServer((self.host, self.port), self.app, context)
        self.port = self.server.server_address[1]
        self.url = "https://%s:%d" % (self.host, self.port)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="graph-emulator", daemon=True)
        self.thread.start()
        return self

    @property
    def tenant(self):
        return self.app.tenant

    @property
    def tenant_id(self):
        return self.app.tenant.tenant_id

    @property
    def authority(self):
        return "%s/%s" % (self.url, self.tenant_id)

    def ready_line(self):
        return {"url": self.url, "ca_path": self.ca_path, "tenant_id": self.tenant_id, "client_id": self.client_id,
                "client_secret": self.client_secret, "cert_client_id": self.cert_client_id, "cert_path": self.cert_path,
                "cert_thumbprint": self.cert_thumbprint, "authority": self.authority, "pid": os.getpid(),
                "profile": self.app.tenant.settings["profile"]}

    def stop(self):
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self.server = None
        if self.state_path:
            self.app.save(self.state_path)
        self.app.log.close()
        if self._own_workdir and self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start() if self.server is None else self

    def __exit__(self, *exc):
        self.stop()

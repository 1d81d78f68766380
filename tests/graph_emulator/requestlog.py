"""The request log: one JSON object per request (token requests and inner ``$batch`` requests too).

Fields: ``seq``, ``ts``, ``method``, ``path`` (with the ``/beta`` or ``/v1.0`` prefix and the query
string), ``status``, ``request_body``, ``response_body``, ``request_id`` and, where they apply,
``batch_request_id`` (inner requests), ``fault`` (an injected fault) and ``throttled``. Secrets and
tokens are replaced by ``"***"``; a ``productKey`` keeps its last five characters only.
The last ``keep`` entries stay in memory for ``GET /_emulator/requests``; with ``path`` every entry
is appended to a JSON Lines file as well.
"""

import collections
import json
import threading

SECRET_KEYS = frozenset(("client_secret", "client_assertion", "access_token", "refresh_token", "id_token",
                         "authorization", "password", "secrettext", "clientsecret", "assertion"))
MASKED_KEYS = frozenset(("productkey",))


def redact(value):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            low = key.lower()
            if low in SECRET_KEYS and item is not None:
                out[key] = "***"
            elif low in MASKED_KEYS and isinstance(item, str) and item:
                out[key] = "*" * max(len(item) - 5, 0) + item[-5:] if len(item) > 5 else "*" * len(item)
            else:
                out[key] = redact(item)
        return out
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


class RequestLog:
    def __init__(self, path=None, keep=5000):
        self.path = path
        self.entries = collections.deque(maxlen=keep)
        self.seq = 0
        self.lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8") if path else None

    def append(self, entry):
        """Keep ``entry`` (redacted when it is read or written, so a fast request pays nothing for it)."""
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.entries.append(entry)
            if self._file:
                self._file.write(json.dumps(redact(entry), separators=(",", ":")) + "\n")
                self._file.flush()
        return entry

    def since(self, seq=0):
        with self.lock:
            return [redact(e) for e in self.entries if e["seq"] > seq]

    def clear(self):
        with self.lock:
            self.entries.clear()

    def close(self):
        with self.lock:
            if self._file:
                self._file.close()
                self._file = None

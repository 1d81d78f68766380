"""The control API under ``/_emulator`` (no authentication; the emulator only listens on 127.0.0.1).

=========  =========================  ==============================================================
GET        /_emulator/state           the whole tenant as JSON (``sets`` include ``_`` bookkeeping keys)
POST       /_emulator/reset           a fresh seeded tenant (same tenant id); body: optional settings
POST       /_emulator/seed            ``{"sets": {"users": [{...}], ...}}`` adds objects (ids minted when
                                      missing; ``"replicate": true`` applies the replication delay)
POST       /_emulator/advance         ``{"seconds": N}`` moves emulated time forward, then ticks
GET        /_emulator/requests        the in-memory request log; ``?since=SEQ`` for newer entries only
GET/POST   /_emulator/faults          read / configure faults (rate, kinds, retry_after, slow_ms, seed,
                                      rules, clear_rules); the answer counts injected faults and throttling
DELETE     /_emulator/faults          back to no faults, counters cleared
GET/PATCH  /_emulator/settings        tenant settings (page_size, replication_delay, import_delay, throttle...)
GET/POST   /_emulator/apps            registered applications (secrets never shown); POST registers one
POST       /_emulator/save, /load     ``{"path": FILE}``: write / read the tenant as a JSON file
=========  =========================  ==============================================================
"""

import json
import os
import secrets

from .core import new_id


def _error(status, message):
    return status, {"error": {"code": "BadRequest" if status == 400 else "NotFound", "message": message}}


def handle(app, method, path, query, body):
    handler = ROUTES.get((method, path.rstrip("/") or "/"))
    if handler is None:
        return _error(404, "No control endpoint %s /_emulator%s. Known: %s" % (
            method, path, ", ".join(sorted("%s %s" % k for k in ROUTES))))
    try:
        return handler(app, query, body if body is not None else {})
    except (ValueError, TypeError, KeyError) as exc:
        return _error(400, "%s: %s" % (type(exc).__name__, exc))


def state(app, query, body):
    return 200, app.dump_public()


def reset(app, query, body):
    app.reset(body.get("settings", body))
    return 200, {"tenant_id": app.tenant.tenant_id, "settings": app.tenant.settings}


def seed_objects(app, query, body):
    sets = body.get("sets")
    if not isinstance(sets, dict):
        raise ValueError("body must be {\"sets\": {\"<set name>\": [objects]}}")
    added = {}
    with app.tenant.lock:
        for name, items in sets.items():
            if not isinstance(items, list) or any(not isinstance(i, dict) for i in items):
                raise ValueError("sets.%s must be a list of objects" % name)
            for item in items:
                entity = json.loads(json.dumps(item))
                entity.setdefault("id", new_id())
                app.tenant.add(name, entity, replicate=bool(body.get("replicate")))
                added.setdefault(name, []).append(entity["id"])
    return 200, {"sets": added}


def advance(app, query, body):
    seconds = float(body.get("seconds", 0))
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    with app.tenant.lock:
        app.tenant.clock.advance(seconds)
        app.tenant.tick()
    return 200, {"now": app.tenant.clock.iso(), "offset": app.tenant.clock.offset}


def requests_log(app, query, body):
    since = int(query.get("since", 0))
    entries = app.log.since(since)
    return 200, {"requests": entries, "last": app.log.seq}


def faults_get(app, query, body):
    return 200, _faults(app)


def faults_post(app, query, body):
    app.faults.configure(body)
    return 200, _faults(app)


def faults_delete(app, query, body):
    app.faults.reset()
    app.throttle.throttled = 0
    return 200, _faults(app)


def _faults(app):
    data = app.faults.describe()
    data["throttled"] = app.throttle.throttled
    return data


def settings_get(app, query, body):
    return 200, dict(app.tenant.settings)


def settings_patch(app, query, body):
    app.tenant.settings.update(body)
    if "fault_rate" in body:
        app.faults.configure({"rate": body["fault_rate"]})
    return 200, dict(app.tenant.settings)


def apps_get(app, query, body):
    return 200, {"apps": [a.public() for a in app.registry.apps.values()]}


def apps_post(app, query, body):
    secret = body.get("secret") or secrets.token_urlsafe(30)
    registered = app.registry.register(client_id=body.get("client_id"), display_name=body.get("display_name", "Test app"),
                                       secret=secret, roles=body.get("roles", ()))
    data = registered.public()
    data["secret"] = secret
    return 200, data


def save(app, query, body):
    path = body["path"]
    app.save(path)
    return 200, {"path": os.path.abspath(path)}


def load(app, query, body):
    with open(body["path"], encoding="utf-8") as handle:
        app.load(json.load(handle))
    return 200, {"tenant_id": app.tenant.tenant_id}


ROUTES = {
    ("GET", "/state"): state,
    ("POST", "/reset"): reset,
    ("POST", "/seed"): seed_objects,
    ("POST", "/advance"): advance,
    ("GET", "/requests"): requests_log,
    ("GET", "/faults"): faults_get,
    ("POST", "/faults"): faults_post,
    ("DELETE", "/faults"): faults_delete,
    ("GET", "/settings"): settings_get,
    ("PATCH", "/settings"): settings_patch,
    ("GET", "/apps"): apps_get,
    ("POST", "/apps"): apps_post,
    ("POST", "/save"): save,
    ("POST", "/load"): load,
}

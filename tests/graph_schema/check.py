"""Check Microsoft Graph JSON bodies against schema.json (extracted from the
Microsoft-published Graph SDKs, see README.md).

  check.py [--api beta|v1.0] TYPE FILE.json     one JSON document (or a JSON
                                                array of them) of type TYPE;
                                                FILE may be - for stdin
  check.py --log FILE.jsonl                     a request log, one JSON object
                                                a line: {"method", "path",
                                                "request_body", "response_body"
                                                [, "status"]}
  check.py --list [SUBSTRING]                   list known types
  check.py --show TYPE                          print a type's properties,
                                                inherited ones included

Findings are printed one a line; the exit status is 1 if there was any
finding, 2 on a usage error, 0 otherwise.
"""
import argparse
import base64
import difflib
import json
import os
import re
import sys
from urllib.parse import unquote, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))

# Edm.DateTimeOffset: the time zone (Z or +hh:mm/-hh:mm) is mandatory; ODataLib,
# which parses Graph payloads, rejects values without one
# ("PlatformHelper_DateTimeOffsetMustContainTimeZone").
RE_DATETIME = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$")
# Graph's own error payloads carry innerError.date without a time zone
RE_DATETIME_NO_TZ = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
RE_DATE = re.compile(r"^-?\d{4,}-\d{2}-\d{2}$")
RE_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
RE_DURATION = re.compile(
    r"^-?P(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
RE_GUID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
RE_BASE64 = re.compile(r"^[A-Za-z0-9+/_-]*={0,2}$")
IEEE_SPECIAL = {"NaN", "INF", "-INF", "Infinity", "-Infinity"}


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


class Schema:
    def __init__(self, path):
        with open(path) as fh:
            self.doc = json.load(fh)
        self.apis = self.doc["apis"]
        self._flat = {}
        self._paths = {}

    def source(self, api):
        s = self.doc["sources"][api]
        return "%s %s" % (s["package"], s["version"])

    def resolve(self, name, api=None):
        """-> (api, full type name) or raise LookupError."""
        apis = [api] if api else list(self.apis)
        hits = []
        for a in apis:
            types = self.apis[a]["types"]
            for cand in (name, name.lstrip("#"), "microsoft.graph." + name.lstrip("#")):
                if cand in types:
                    hits.append((a, cand))
                    break
            else:
                low = name.lower()
                suf = [t for t in types if t.lower() == low or t.lower().endswith("." + low)]
                hits.extend((a, t) for t in suf)
        hits = sorted(set(hits))
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise LookupError("unknown type %r%s" % (name, " in " + api if api else ""))
        if len({t for _a, t in hits}) == 1:
            raise LookupError("type %r exists in both APIs, and the two differ: use --api %s"
                              % (name, " or --api ".join(a for a, _t in hits)))
        raise LookupError("type %r is ambiguous: %s (use --api or the full name)"
                          % (name, ", ".join("%s:%s" % h for h in hits)))

    def chain(self, api, name):
        types = self.apis[api]["types"]
        out = []
        while name:
            out.append(name)
            name = types[name].get("base")
        return out

    def props(self, api, name):
        key = (api, name)
        if key not in self._flat:
            types = self.apis[api]["types"]
            flat = {}
            for n in reversed(self.chain(api, name)):
                flat.update(types[n]["properties"])
            self._flat[key] = flat
        return self._flat[key]

    def is_a(self, api, name, base):
        return base in self.chain(api, name)

    @staticmethod
    def segment_rx(seg):
        """Regex for one template segment: {x} is any segment; a function
        segment keeps its literal name, f() may be called as f or f(), and
        the parameters in f(p='{p}') match any value."""
        if seg.startswith("{") and seg.endswith("}"):
            return "[^/]+"
        if seg.endswith("()"):
            return re.escape(seg[:-2]) + r"(\(\))?"
        return "".join("[^/]*?" if part.startswith("{") else re.escape(part)
                       for part in re.split(r"(\{[^}]+\})", seg) if part)

    def match_path(self, api, path):
        """path without version prefix and query -> path entry or None."""
        if api not in self._paths:
            compiled = []
            for p in self.apis[api]["paths"]:
                segs = [s for s in p["template"].split("/") if s]
                rx = "^/" + "/".join(self.segment_rx(s) for s in segs) + "/?$"
                literal = sum(1 for s in segs if not s.startswith("{"))
                compiled.append((re.compile(rx, re.I), literal, p))
            self._paths[api] = compiled
        # type-cast segments: the SDK templates use the namespace alias
        # (members/graph.user); Graph also takes members/microsoft.graph.user
        path = re.sub(r"/microsoft\.graph\.(?=[A-Za-z])", "/graph.", path, flags=re.I)
        tries = [path]
        # alternate keys, e.g. /devices(deviceId='...'), address the same
        # entity as /devices/{id}; used only if the path matches nothing as is
        alt = re.sub(r"\(\s*\w+\s*=\s*'?([^()']*)'?\s*\)", r"/\1", path)
        if alt != path:
            tries.append(alt)
        for candidate in tries:
            hits = [(lit, p) for rx, lit, p in self._paths[api] if rx.match(candidate)]
            if hits:
                return max(hits, key=lambda h: h[0])[1]
        return None


class Checker:
    def __init__(self, schema, strict_nav=False):
        self.s = schema
        self.strict_nav = strict_nav
        self.findings = []
        self.notes = []
        self.in_error = 0

    def add(self, where, kind, msg):
        self.findings.append((where, kind, msg))

    def note(self, where, msg):
        self.notes.append((where, msg))

    # -- values --------------------------------------------------------------
    def check(self, api, tname, value, where, collection=False, prop=None):
        if collection:
            if value is None:
                return
            if not isinstance(value, list):
                self.add(where, "wrong-type", "expected an array of %s, got %s"
                         % (tname, jtype(value)))
                return
            for i, v in enumerate(value):
                self.check(api, tname, v, "%s[%d]" % (where, i), False, prop)
            return
        if value is None:
            return  # nullability is not recorded in the SDK; null is accepted
        a = self.s.apis[api]
        if tname in a["types"]:
            self.check_object(api, tname, value, where, prop)
        elif tname in a["enums"]:
            self.check_enum(a["enums"][tname], tname, value, where)
        else:
            self.check_primitive(tname, value, where)

    def check_primitive(self, t, v, where):
        jt = jtype(v)
        bad = None
        if t == "string":
            bad = jt != "string"
        elif t == "boolean":
            bad = jt != "boolean"
        elif t == "integer":
            bad = jt != "integer"
        elif t == "number":
            bad = jt not in ("integer", "number") and not (jt == "string" and v in IEEE_SPECIAL)
        elif t == "untyped":
            bad = False
        elif jt != "string":
            bad = True
        else:
            rx = {"dateTimeOffset": RE_DATETIME, "date": RE_DATE, "timeOfDay": RE_TIME,
                  "duration": RE_DURATION, "guid": RE_GUID, "binary": RE_BASE64}.get(t)
            if rx is not None and not rx.match(v):
                if t == "dateTimeOffset" and self.in_error and RE_DATETIME_NO_TZ.match(v):
                    return
                extra = ""
                if t == "dateTimeOffset" and RE_DATETIME_NO_TZ.match(v):
                    extra = " (the time zone, Z or +hh:mm, is mandatory)"
                self.add(where, "wrong-format", "%r is not a valid %s%s" % (v, t, extra))
                return
            if t == "binary":
                try:
                    base64.b64decode(v.replace("-", "+").replace("_", "/") + "=" * (-len(v) % 4),
                                     validate=True)
                except ValueError:
                    self.add(where, "wrong-format", "%r is not valid base64 (binary)" % (v,))
            return
        if bad:
            self.add(where, "wrong-type", "expected %s, got %s %s" % (t, jt, json.dumps(v)[:60]))

    def check_enum(self, enum, tname, v, where):
        if not isinstance(v, str):
            self.add(where, "wrong-type", "expected %s (enum string), got %s %s"
                     % (tname, jtype(v), json.dumps(v)[:60]))
            return
        members = [m.strip() for m in v.split(",")] if enum.get("flags") else [v]
        for m in members:
            if m not in enum["values"]:
                close = difflib.get_close_matches(m, enum["values"], 1)
                self.add(where, "bad-enum", "%r is not a %s value%s; allowed: %s"
                         % (m, tname, " (did you mean %r?)" % close[0] if close else "",
                            ", ".join(enum["values"])))

    def odata_type(self, api, declared, v, where):
        """Resolve an @odata.type annotation; returns the effective type."""
        if not isinstance(v, str):
            self.add(where + ".@odata.type", "wrong-type", "@odata.type must be a string")
            return declared
        name = v[1:] if v.startswith("#") else v
        types = self.s.apis[api]["types"]
        if name not in types:
            self.add(where + ".@odata.type", "unknown-odata-type",
                     "%r is not a type known to %s (expected %s or a type derived from it)"
                     % (v, self.s.source(api), declared))
            return declared
        if not self.s.is_a(api, name, declared):
            self.add(where + ".@odata.type", "wrong-odata-type",
                     "%r is not %s or a type derived from it" % (v, declared))
            return declared
        return name

    def check_object(self, api, tname, obj, where, prop=None):
        if not isinstance(obj, dict):
            self.add(where, "wrong-type", "expected an object of type %s, got %s %s"
                     % (tname, jtype(obj), json.dumps(obj)[:60]))
            return
        eff = tname
        if "@odata.type" in obj:
            eff = self.odata_type(api, tname, obj["@odata.type"], where)
        props = self.s.props(api, eff)
        is_error = self.s.apis[api]["types"][eff]["kind"] == "error"
        self.in_error += is_error
        try:
            self.check_members(api, eff, obj, where, props)
        finally:
            self.in_error -= is_error

    def check_members(self, api, eff, obj, where, props):
        for key, val in obj.items():
            loc = "%s.%s" % (where, key)
            if key.startswith("@"):
                # instance annotation: @odata.type/@odata.context/@odata.id/... or a
                # namespace-qualified custom one (@microsoft.graph.xxx)
                if "." not in key[1:]:
                    self.add(loc, "bad-annotation", "annotation %r is not namespace-qualified" % key)
                elif key in ("@odata.count",) and not isinstance(val, int):
                    self.add(loc, "wrong-type", "@odata.count must be an integer")
                continue
            if "@" in key:
                # property annotation, e.g. members@odata.bind, value@odata.nextLink
                target, ann = key.split("@", 1)
                if target not in props:
                    self.add(loc, "unknown-property",
                             "annotation %r targets %r, which is not a property of %s%s"
                             % (key, target, eff, self.suggest(target, props)))
                elif ann == "odata.bind":
                    if not props[target].get("navigation"):
                        self.add(loc, "bad-annotation",
                                 "@odata.bind on %r, which is not a navigation property" % target)
                    ok = isinstance(val, str) or (isinstance(val, list) and all(isinstance(x, str) for x in val))
                    if not ok:
                        self.add(loc, "wrong-type", "@odata.bind value must be a URL string or an array of them")
                continue
            if key not in props:
                self.add(loc, "unknown-property", "%r is not a property of %s%s"
                         % (key, eff, self.suggest(key, props) or self.derived_hint(api, eff, key)))
                continue
            p = props[key]
            if p.get("targetNotExtracted"):
                msg = "navigation property %r (%s) is not in schema.json; its content was not checked" % (key, p["type"])
                if self.strict_nav:
                    self.add(loc, "unchecked-navigation", msg)
                else:
                    self.note(loc, msg)
                continue
            self.check(api, p["type"], val, loc, p.get("collection", False), key)

    def derived_hint(self, api, eff, key):
        owners = sorted(n for n, t in self.s.apis[api]["types"].items()
                        if key in t["properties"] and n != eff and self.s.is_a(api, n, eff))
        if owners:
            return " (it is defined on the derived type%s %s; is @odata.type missing?)" % (
                "s" if len(owners) > 1 else "", ", ".join(owners))
        return ""

    @staticmethod
    def suggest(key, props):
        cands = [p for p in props if not p.startswith("@")]
        close = difflib.get_close_matches(key, cands, 1, 0.6)
        if not close:
            low = {p.lower(): p for p in cands}
            if key.lower() in low:
                close = [low[key.lower()]]
        return " (did you mean %r?)" % close[0] if close else ""

    # -- request logs --------------------------------------------------------
    def check_log(self, path, default_api):
        opener = sys.stdin if path == "-" else open(path)
        with opener as fh:
            for n, line in enumerate(fh, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    rec = json.loads(line)
                except ValueError as e:
                    self.add("line %d" % n, "bad-log-line", "not JSON: %s" % e)
                    continue
                self.check_record(rec, "line %d" % n, default_api)

    def check_record(self, rec, where, default_api):
        method = str(rec.get("method", "")).upper()
        raw = rec.get("path") or rec.get("url") or ""
        parts = urlsplit(raw)
        path = unquote(parts.path)
        if not path.startswith("/"):
            path = "/" + path
        # OData key syntax: /collection('id') or /collection(id) -> /collection/id
        # (not f() or f(p='v'): function calls are matched as written)
        path = re.sub(r"\(\s*'?([^()'=]+)'?\s*\)", r"/\1", path)
        api = default_api
        m = re.match(r"^/(beta|v1\.0)(/.*)$", path)
        if m:
            api, path = m.group(1), m.group(2)
        where = "%s %s %s" % (where, method, raw)
        if api is None:
            self.add(where, "unmapped-path", "no /beta or /v1.0 prefix and no --api given")
            return
        entry = self.s.match_path(api, path)
        if entry is None:
            self.add(where, "unmapped-path", "path matches no %s path template in schema.json (%s)"
                     % (api, self.s.source(api)))
            return
        if method not in entry["methods"]:
            self.add(where, "unmapped-method", "%s is not defined for %s (defined: %s)"
                     % (method, entry["template"], ", ".join(entry["methods"])))
            return
        spec = entry["methods"][method]
        status = rec.get("status")
        for role, body_key in (("request", "request_body"), ("response", "response_body")):
            body = rec.get(body_key)
            if isinstance(body, str):
                if not body.strip():
                    body = None
                else:
                    try:
                        body = json.loads(body)
                    except ValueError:
                        if role + "Primitive" in spec:
                            continue
                        self.add("%s %s" % (where, role), "not-json", "%s body is not JSON" % role)
                        continue
            if body is None or body == {} and role + "Primitive" not in spec and role not in spec:
                continue
            loc = "%s %s $" % (where, role)
            if role == "response" and (
                    (isinstance(status, int) and status >= 400) or
                    (isinstance(body, dict) and "error" in body and len(body) == 1)):
                self.check(api, "ODataErrors.ODataError", body, loc)
                continue
            tname = spec.get(role)
            if tname is None:
                if role + "Primitive" in spec:
                    continue
                self.add(loc, "unexpected-body", "%s %s takes/returns no %s body in %s, but one is present"
                         % (method, entry["template"], role, self.s.source(api)))
                continue
            self.check(api, tname, body, loc)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("type", nargs="?", help="Graph type, e.g. windows10EnrollmentCompletionPageConfiguration")
    ap.add_argument("file", nargs="?", help="JSON file (or - for stdin)")
    ap.add_argument("--schema", default=os.path.join(HERE, "schema.json"))
    ap.add_argument("--api", choices=["beta", "v1.0"], help="which API's types/paths to use")
    ap.add_argument("--log", metavar="FILE.jsonl", help="check a JSONL request log")
    ap.add_argument("--list", nargs="?", const="", metavar="SUBSTRING", help="list known types")
    ap.add_argument("--show", metavar="TYPE", help="print a type's properties (inherited included)")
    ap.add_argument("--strict-nav", action="store_true",
                    help="treat navigation properties whose target type is not in schema.json as findings")
    ap.add_argument("-q", "--quiet", action="store_true", help="print findings only")
    args = ap.parse_args(argv)
    try:
        schema = Schema(args.schema)
    except (OSError, ValueError) as e:
        print("cannot read schema: %s" % e, file=sys.stderr)
        return 2

    if args.list is not None:
        for api in ([args.api] if args.api else schema.apis):
            a = schema.apis[api]
            for n, t in a["types"].items():
                if args.list.lower() in n.lower():
                    print("%-5s %-18s %s" % (api, t["kind"], n))
            for n in a["enums"]:
                if args.list.lower() in n.lower():
                    print("%-5s %-18s %s" % (api, "enum", n))
        return 0
    if args.show:
        try:
            api, name = schema.resolve(args.show, args.api)
        except LookupError as e:
            print(e, file=sys.stderr)
            return 2
        t = schema.apis[api]["types"][name]
        print("%s (%s, %s, from %s)" % (name, api, t["kind"], schema.source(api)))
        print("  base chain: %s" % " -> ".join(schema.chain(api, name)))
        if t.get("derived"):
            print("  derived: %s" % ", ".join(t["derived"]))
        for p, d in sorted(schema.props(api, name).items()):
            extra = []
            if d.get("navigation"):
                extra.append("navigation")
            if d.get("targetNotExtracted"):
                extra.append("target not extracted")
            if d["type"] in schema.apis[api]["enums"]:
                e = schema.apis[api]["enums"][d["type"]]
                extra.append(("flags " if e.get("flags") else "") + "enum: " + "|".join(e["values"]))
            print("  %-45s %s%s%s" % (p, "Collection(%s)" % d["type"] if d.get("collection") else d["type"],
                                      "  " if extra else "", "; ".join(extra)))
        return 0

    chk = Checker(schema, strict_nav=args.strict_nav)
    if args.log:
        try:
            chk.check_log(args.log, args.api)
        except OSError as e:
            print(e, file=sys.stderr)
            return 2
        label = args.log
    else:
        if not args.type or not args.file:
            ap.print_usage(sys.stderr)
            return 2
        try:
            api, name = schema.resolve(args.type, args.api)
        except LookupError as e:
            print(e, file=sys.stderr)
            return 2
        try:
            fh = sys.stdin if args.file == "-" else open(args.file)
            with fh:
                doc = json.load(fh)
        except (OSError, ValueError) as e:
            print("cannot read %s: %s" % (args.file, e), file=sys.stderr)
            return 2
        label = "%s as %s:%s" % (args.file, api, name)
        if isinstance(doc, list):
            chk.check(api, name, doc, "$", collection=True)
        else:
            chk.check(api, name, doc, "$")
    for where, kind, msg in chk.findings:
        print("FAIL %s: %s: %s" % (where, kind, msg))
    if not args.quiet:
        for where, msg in chk.notes:
            print("note %s: %s" % (where, msg))
        print("%s: %s (%d finding%s)" % (label, "FAIL" if chk.findings else "OK",
                                         len(chk.findings), "" if len(chk.findings) == 1 else "s"))
    return 1 if chk.findings else 0


if __name__ == "__main__":
    sys.exit(main())

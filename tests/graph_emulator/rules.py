"""Dynamic membership rules (Entra ID): what the service accepts, and which devices and users a rule selects.

The stand-in for Microsoft's rule engine, written from Microsoft's pages independently of the collection's own
client-side check (plugins/module_utils/_membership_rule.py); tests/graph_emulator/tests/test_rules.py holds
the two to the same verdict on every rule of tests/data/membership_rules.json.

Sources: MicrosoftDocs/entra-docs docs/identity/users/groups-dynamic-membership.md ([DM]),
groups-dynamic-rule-member-of.md, groups-dynamic-rule-more-efficient.md, groups-troubleshooting.md;
MicrosoftDocs/memdocs autopilot/enrollment-autopilot.md and autopilot/includes/create-dynamic-device-group.md.

Syntax accepted: conditions ``user.<property>`` / ``device.<property>`` (one object kind per rule) with
-eq -ne -startsWith -notStartsWith -endsWith -notEndsWith -contains -notContains -match -notMatch -in -notIn
(and -le -ge on user.employeeHireDate), joined by -and / -or, negated by -not, grouped by parentheses;
every operator case-insensitive and "with or without the hyphen (-) prefix" [DM] (``and``, ``or``, ``eq``).
Precedence [DM]: comparisons, -not, -and, -or. Values: double-quoted strings (``\\"`` or `` `" `` inside),
single-quoted ones (``''`` inside), true, false, null / $null (with -eq or -ne only), numbers, [ ] lists
(only after -in / -notIn), and for employeeHireDate a date, ``system.now`` and ``system.now -plus|-minus
<ISO 8601 duration>``, in parentheses or not. Multi-value properties take -any / -all with an item condition
in parentheses or, as the [DM] device table writes it, without: ``_`` for string collections,
``assignedPlan.<capabilityStatus|service|servicePlanId>`` for user.assignedPlans, ``group.objectId`` for
memberOf (which "can't be used with other rules": refused when combined). ``Direct Reports for "<id>"``
stands alone. Microsoft documents no nesting limit; past 50 parentheses or -not in a row is refused here.
Property names as [DM] lists them, matched without case ([DM] itself writes both devicePhysicalIDs and
devicePhysicalIds), plus extensionAttribute1-15 and ``extension_<32 hex>_<name>``.
At most 3,072 characters.

Answers to a rule Graph refuses (POST and PATCH /groups): 400 (neither report below prints the status; 400 is
what Graph answers for the other invalid properties of a group). A property without ``user.``/``device.`` (or an
unquoted word where a value goes) gets ``InvalidObjectTypeException`` / ``No object type``, as Graph answered
in microsoftgraph/msgraph-sdk-dotnet issue 2601 and Azure/azure-powershell issue 20360. For the others
Graph's code is not on record; the emulator answers ``Request_BadRequest`` with the portal's wording,
"Dynamic membership rule validation error: <reason>", reasons as groups-troubleshooting.md names them
("Attribute not supported.", "Operator isn't supported on attribute.", "Query compilation error.") and
"Invalid operands found for operator -any." (MicrosoftDocs/azure-docs issues 16182 and 81987), each followed
by what exactly was wrong.

Evaluation: string and regex comparisons ignore case [DM]; a missing value is null (``-eq null`` true) and
"" for the string operators; -all over an empty collection is true ([DM] selects "users who have no assigned
service plan" with ``-all (assignedPlan.servicePlanId -eq null)``). Rule properties read the Graph
``device`` / ``user`` fields (microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/resources/
device.md): devicePhysicalIds -> physicalIds, deviceOSType -> operatingSystem, deviceOSVersion ->
operatingSystemVersion, deviceManufacturer -> manufacturer, deviceModel -> model, deviceTrustType ->
trustType, deviceManagementAppId -> mdmAppId, objectId -> id, extensionAttributeN -> extensionAttributes
(devices) or onPremisesExtensionAttributes (users). memberOf reads the direct members of the groups named,
Direct Reports the user's ``manager.id``; ``system.now`` is the host's clock.
"""

import datetime
import re

MAX = 3072
NESTING = 50
NO_OBJECT_TYPE = "InvalidObjectTypeException"
COMPARISONS = {"eq", "ne", "startswith", "notstartswith", "endswith", "notendswith", "contains", "notcontains",
               "match", "notmatch", "in", "notin", "le", "ge"}
TEXT = COMPARISONS - {"le", "ge"}
USER = {
    "accountenabled": "bool", "dirsyncenabled": "bool", "employeehiredate": "date", "othermails": "list",
    "proxyaddresses": "list", "assignedplans": "plans", "memberof": "groups",
}
USER.update((name.lower(), "text") for name in (
    "city country companyName department displayName employeeId facsimileTelephoneNumber givenName jobTitle mail "
    "mailNickName mobile objectId onPremisesDistinguishedName onPremisesSecurityIdentifier passwordPolicies "
    "physicalDeliveryOfficeName postalCode preferredLanguage sipProxyAddress state streetAddress surname "
    "telephoneNumber usageLocation userPrincipalName userType").split())
DEVICE = {"accountenabled": "bool", "isrooted": "bool", "devicephysicalids": "list", "systemlabels": "list",
          "memberof": "groups"}
DEVICE.update((name.lower(), "text") for name in (
    "deviceCategory deviceId deviceManagementAppId deviceManufacturer deviceModel displayName deviceOSType "
    "deviceOSVersion deviceOwnership deviceTrustType enrollmentProfileName managementType objectId "
    "profileType").split())
KINDS = {"user": USER, "device": DEVICE}
TYPE_OPS = {"bool": {"eq", "ne"}, "date": {"eq", "ne", "le", "ge"}, "text": TEXT, "list": TEXT | {"any", "all"},
            "plans": {"any", "all"}, "groups": {"any", "all"}}
ITEMS = {"list": {"_"}, "plans": {"assignedplan.capabilitystatus", "assignedplan.service",
                                  "assignedplan.serviceplanid"}, "groups": {"group.objectid"}}
GRAPH_FIELDS = {"devicephysicalids": "physicalIds", "deviceostype": "operatingSystem",
                "deviceosversion": "operatingSystemVersion", "devicemanufacturer": "manufacturer",
                "devicemodel": "model", "devicetrusttype": "trustType", "devicemanagementappid": "mdmAppId",
                "objectid": "id"}
SCAN = re.compile(r"""\s*(?:(?P<s>"(?:\\"|`"|[^"])*"|'(?:''|[^'])*')|(?P<d>\d{4}-\d\d-\d\d(?:T\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?)?)
    |(?P<n>\d+(?:\.\d+)?)|(?P<w>-?\$?[A-Za-z_][A-Za-z0-9_.]*)|(?P<p>[()\[\],]))""", re.X)
DURATION = re.compile(r"P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(?:T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$", re.I)
REGEX_FAULTS = ("nothing to repeat", "multiple repeat", "missing )", "unbalanced parenthesis",
                "unterminated character set", "bad character range")


class RuleError(ValueError):
    """Graph's refusal of a rule: ``code`` and ``message`` of the 400 answer."""

    def __init__(self, reason, detail="", code="Request_BadRequest"):
        self.code = code
        self.message = "No object type" if code == NO_OBJECT_TYPE else (
            "Dynamic membership rule validation error: %s %s" % (reason, detail)).strip()
        super().__init__(self.message)


def _syntax(detail):
    return RuleError("Query compilation error.", detail)


def _tokens(text):
    out, pos = [], 0
    while text[pos:].strip():
        found = SCAN.match(text, pos)
        if not found:
            offset = len(text) - len(text[pos:].lstrip())
            raise _syntax("Unexpected %r at offset %d." % (text[offset], offset))
        kind = found.lastgroup
        value = found.group(kind)
        if kind == "s":
            body = value[1:-1]
            value = body.replace("''", "'") if value[0] == "'" else body.replace('\\"', '"').replace('`"', '"')
        elif kind == "w":
            value = value.lower()
        out.append((kind, value))
        pos = found.end()
    depth = run = 0
    for kind, value in out:
        depth += {("p", "("): 1, ("p", ")"): -1}.get((kind, value), 0)
        run = run + 1 if kind == "w" and value.lstrip("-") == "not" else 0
        if max(depth, run) > NESTING:
            raise _syntax("Nested deeper than %d." % NESTING)
    return out


class _Rule:
    def __init__(self, text):
        self.toks = _tokens(text)
        self.pos = 0
        self.kind = None
        self.member_of = False

    def next(self):
        tok = self.toks[self.pos] if self.pos < len(self.toks) else (None, None)
        self.pos += 1
        return tok

    def look(self, ahead=0):
        return self.toks[self.pos + ahead] if self.pos + ahead < len(self.toks) else (None, None)

    def word(self, *names):
        kind, value = self.look()
        if kind == "w" and value.lstrip("-") in names:
            self.pos += 1
            return value.lstrip("-")
        return None

    def expect(self, punct):
        if self.next() != ("p", punct):
            raise _syntax("Missing '%s'." % punct)

    def expr(self, bound=0, item=None):
        if self.word("not"):
            left = ("not", self.expr(3, item))
        elif self.look() == ("p", "("):
            self.pos += 1
            left = self.expr(0, item)
            self.expect(")")
        else:
            left = self.condition(item)
        while True:
            for name, power in (("or", 1), ("and", 2)):
                if power > bound and self.word(name):
                    left = (name, left, self.expr(power, item))
                    break
            else:
                return left

    def condition(self, item):
        kind, name = self.next()
        if kind != "w" or name.startswith("-") or name in ("and", "or", "not"):
            raise _syntax("A condition was expected, found %r." % name)
        if item is not None:
            if name not in ITEMS[item]:
                raise RuleError("Invalid operands found for operator -any.", "%r is not an item of this property."
                                % name)
            typ, path = "text", name
        else:
            obj, prop = (name.split(".", 1) + [""])[:2]
            if obj not in KINDS or not prop:
                if name == "_" or obj in ("assignedplan", "group"):
                    raise RuleError("Invalid operands found for operator -any.", "%r outside -any/-all." % name)
                raise RuleError("", code=NO_OBJECT_TYPE)
            if self.kind not in (None, obj):
                raise _syntax("A rule cannot contain both users and devices.")
            self.kind = obj
            typ = KINDS[obj].get(prop)
            if typ is None and re.match(r"(extensionattribute([1-9]|1[0-5])|extension_[0-9a-f]{32}_\w+)$", prop):
                typ = "text"
            if typ is None:
                raise RuleError("Attribute not supported.", "%r." % name)
            self.member_of = self.member_of or prop == "memberof"
            path = prop
        kind, op = self.next()
        op = (op or "").lstrip("-")
        if kind != "w" or op not in COMPARISONS | {"any", "all"}:
            raise _syntax("Unknown operator %r." % op)
        if op not in TYPE_OPS[typ]:
            raise RuleError("Operator isn't supported on attribute.", "-%s on %s." % (op, name))
        if op in ("any", "all"):
            if self.look() == ("p", "("):
                self.pos += 1
                inner = self.expr(0, typ)
                self.expect(")")
            else:
                inner = self.condition(typ)
            return (op, path, inner)
        return ("cmp", path, op, self.operand(op, typ))

    def operand(self, op, typ):
        kind, value = self.next()
        if op in ("in", "notin"):
            if (kind, value) != ("p", "["):
                raise _syntax("-%s needs a list in [ ]." % op)
            items = []
            while True:
                kind, value = self.next()
                if kind not in ("s", "n"):
                    raise _syntax("A list holds strings or numbers.")
                items.append(value)
                kind, value = self.next()
                if (kind, value) == ("p", "]"):
                    return ("list", items)
                if (kind, value) != ("p", ","):
                    raise _syntax("Missing ',' or ']' in a list.")
        if (kind, value) == ("p", "(") and self.look() == ("w", "system.now"):
            inner = self.operand(op, typ)
            self.expect(")")
            return inner
        if kind == "w" and value in ("null", "$null"):
            if op not in ("eq", "ne"):
                raise RuleError("Operator isn't supported on attribute.", "null takes -eq or -ne.")
            return ("null", None)
        if kind == "w" and value in ("true", "false"):
            return ("value", value == "true")
        if kind == "w" and value == "system.now":
            if typ != "date":
                raise _syntax("system.now is for dates.")
            offset = self.word("plus", "minus")
            if offset is None:
                return ("now", datetime.timedelta(0))
            duration = self.next()[1] or ""
            parts = DURATION.match(duration)
            if not parts:
                raise _syntax("Bad duration %r." % duration)
            y, mo, w, d, h, mi, s = (int(g[:-1]) if g else 0 for g in parts.groups())
            delta = datetime.timedelta(days=365 * y + 30 * mo + 7 * w + d, hours=h, minutes=mi, seconds=s)
            return ("now", delta if offset == "plus" else -delta)
        if kind == "w":
            raise RuleError("", code=NO_OBJECT_TYPE)
        if kind not in ("s", "n", "d"):
            raise _syntax("-%s needs a value." % op)
        if kind == "s" and op in ("match", "notmatch"):
            try:
                re.compile(value)
            except re.error as exc:
                if str(exc).startswith(REGEX_FAULTS):
                    raise _syntax("Invalid regular expression: %s." % exc) from None
        return ("value", value)


def parse(rule):
    """``(ast, kind)`` of a rule Graph accepts (``kind`` ``"device"`` or ``"user"``); :class:`RuleError` else."""
    if not isinstance(rule, str) or not rule.strip():
        raise _syntax("The rule is empty.")
    if len(rule) > MAX:
        raise _syntax("The rule is longer than %d characters." % MAX)
    reports = re.match(r"\s*direct\s+reports\s+for(?![\w.])\s*(.*?)\s*$", rule, re.I | re.S)
    if reports:
        if not re.match(r'"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"$', reports.group(1), re.I):
            raise _syntax("Direct Reports for takes one quoted object id, and nothing else.")
        return ("reports", reports.group(1)[1:-1].lower()), "user"
    parser = _Rule(rule)
    try:
        ast = parser.expr()
    except RecursionError:
        raise _syntax("The rule nests too deeply.") from None
    if parser.pos < len(parser.toks):
        raise _syntax("Unexpected %r after a complete condition (missing -and / -or?)." % (parser.look()[1],))
    if parser.member_of and ast[0] not in ("any", "all"):
        raise _syntax("memberOf can't be used with other rules.")
    return ast, parser.kind


def _field(entity, prop):
    if prop.startswith("extensionattribute"):
        holder = entity.get("extensionAttributes") or entity.get("onPremisesExtensionAttributes") or {}
        return next((v for k, v in holder.items() if k.lower() == prop), None)
    if prop.startswith("assignedplan.") or prop.startswith("group."):
        prop = prop.split(".", 1)[1]
    wanted = GRAPH_FIELDS.get(prop, prop).lower()
    return next((v for k, v in entity.items() if k.lower() == wanted), None)


def _when(value):
    if isinstance(value, datetime.timedelta):
        return datetime.datetime.now(datetime.timezone.utc) + value
    text = str(value).replace("Z", "+00:00")
    moment = datetime.datetime.fromisoformat(text if "T" in text else text + "T00:00:00+00:00")
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def _compare(op, actual, kind, expected):
    if kind == "null":
        return (actual is None) == (op == "eq")
    if op in ("le", "ge"):
        if actual is None:
            return False
        left, right = _when(actual), _when(expected)
        return left <= right if op == "le" else left >= right
    if kind == "value" and isinstance(expected, bool):
        return (actual == expected) == (op == "eq")
    text = "" if actual is None else str(actual).lower()
    negate = op.startswith("not") or op == "ne"
    base = {"ne": "eq"}.get(op, op[3:] if op.startswith("not") else op)
    if base == "in":
        found = text in [str(v).lower() for v in expected]
    elif base == "match":
        try:
            found = re.search(expected, text, re.I) is not None
        except re.error:
            found = False
    else:
        wanted = str(expected).lower()
        found = {"eq": text == wanted, "startswith": text.startswith(wanted), "endswith": text.endswith(wanted),
                 "contains": wanted in text}[base]
    return found != negate


def evaluate(ast, entity, group_members=None):
    """Whether ``entity`` (a Graph device or user) satisfies ``ast``; ``group_members(id)`` gives a group's
    direct member ids for memberOf rules (none without it)."""
    tag = ast[0]
    if tag in ("or", "and"):
        results = (evaluate(side, entity, group_members) for side in ast[1:])
        return any(results) if tag == "or" else all(results)
    if tag == "not":
        return not evaluate(ast[1], entity, group_members)
    if tag == "reports":
        return str((entity.get("manager") or {}).get("id", "")).lower() == ast[1]
    if tag in ("any", "all"):
        if ast[1] == "memberof":
            items = [{"id": gid} for gid in _group_ids(ast[2], entity, group_members)]
        else:
            items = _field(entity, ast[1]) or []
        results = [evaluate(ast[2], item if isinstance(item, dict) else {"_": item}, group_members) for item in items]
        return any(results) if tag == "any" else all(results)
    prop, op, (kind, expected) = ast[1:]
    actual = entity.get("_") if prop == "_" else _field(entity, prop)
    if isinstance(actual, list):
        return any(_compare(op, item, kind, expected) for item in actual)
    if kind == "now":
        kind = "value"
    return _compare(op, actual, kind, expected)


def _group_ids(inner, entity, group_members):
    """The groups of a memberOf condition that list ``entity`` among their direct members."""
    named = set()
    for node in [inner] if inner[0] == "cmp" else inner[1:]:
        if node[0] == "cmp" and node[3][0] == "list":
            named.update(str(v).lower() for v in node[3][1])
        elif node[0] == "cmp":
            named.add(str(node[3][1]).lower())
    if group_members is None:
        return []
    return [gid for gid in named if entity.get("id") in group_members(gid)]

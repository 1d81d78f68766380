# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Entra ID dynamic membership rules: parse, check and compare them; recognise the Autopilot forms.

Internal to this collection; it may change in any release. Pure: no I/O, no Graph call.

``parse(rule)`` -> ``(kind, tree)``; ``problems(rule)`` -> list of messages; ``equivalent(a, b)``;
``group_tag(rule)``; ``is_all_autopilot(rule)``; ``quote(text)``; :class:`RuleError`.

The grammar, as MicrosoftDocs/entra-docs docs/identity/users/groups-dynamic-membership.md documents it
(quoted as [DM]; the other pages are named where used)::

    rule       = expression | "Direct Reports for" string          the latter alone, user rules only
    expression = conjunct {OR conjunct}                             precedence: comparison, -not, -and, -or
    conjunct   = negation {AND negation}
    negation   = NOT negation | "(" expression ")" | condition
    condition  = property comparison value | property (-any | -all) ("(" expression ")" | condition)
    value      = string | true | false | null | $null | number | "[" item {"," item} "]"   (lists: -in, -notIn)
               | date | system.now [(-plus | -minus) duration] | "(" system.now ... ")"    (user.employeeHireDate)

* Operators, logical ones included, are case-insensitive and are written "with or without the hyphen (-)
  prefix" [DM]: ``-and``, ``and``, ``-And``. Comparison: -eq -ne -startsWith -notStartsWith -endsWith
  -notEndsWith -contains -notContains -match -notMatch -in -notIn, and -le -ge for employeeHireDate.
  groups-dynamic-rule-more-efficient.md writes ``or`` and ``-notin``; real rules write ``and`` (test data).
* A property is ``user.<name>`` or ``device.<name>``, one kind per rule, from the [DM] tables (below), plus
  extensionAttribute1-15 and ``extension_<app id without hyphens>_<name>``. [DM] calls names case-sensitive
  yet publishes ``devicePhysicalIDs`` and ``devicePhysicalIds``, ``mailNickName`` and ``mailNickname``,
  ``employeehiredate``; names are therefore matched without case. Inside -any/-all the item is ``_`` (string
  collections), ``assignedPlan.<capabilityStatus|service|servicePlanId>`` (user.assignedPlans) or
  ``group.objectId`` (memberOf, groups-dynamic-rule-member-of.md, which also says memberOf "can't be used
  with other rules"). [DM] writes the item condition with parentheses (``-any (_ -eq "x")``) and without
  (``-any _ -eq "x"``); both are accepted (real tenants hold both, see the test data; one portal user saw
  the second refused in 2021: MicrosoftDocs/azure-docs issue 81987).
* Strings are in double quotes, inside which ``\\"`` escapes a quote [DM] (`` `" ``, in the page's older text and
  its example, is accepted too); single-quoted strings (``['id']`` in memberOf rules) double a quote to escape it. An unquoted word is not a value: Graph
  answers ``InvalidObjectTypeException: No object type`` (Azure/azure-powershell issue 20360).
* null is compared with -eq or -ne only; ``$null`` is the same value ([DM]: "whether you use null or $null").
* At most 3,072 characters [DM]. Errors Entra names (entra-docs groups-troubleshooting.md): an unknown
  property, an operator the property's type does not take (``-contains`` on a boolean), two conditions
  without -and/-or between them, an invalid regular expression.

Open where Microsoft is silent: whether ``–`` (the en dash in [DM]'s own examples) is accepted (it is refused
here, by name); how deep a rule may nest (refused here past 50 parentheses or -not in a row; real rules nest
three deep); .NET and Python regular expressions differ, so a pattern is refused only for faults both
reject (nothing to repeat, unbalanced parentheses or brackets, a reversed range).

Two rules are :func:`equivalent` when they select the same objects by the rules above: operator case and
hyphen, property-name case, whitespace outside strings, redundant parentheses, the order and repetition of
-and/-or operands and of -in lists, ``null``/``$null``, double -not, and the case of string values, which
Entra compares without case [DM] ("Regex and string operations aren't case sensitive"); a -match pattern is
compared as written (``\\d`` and ``\\D`` differ). Entra itself keeps the text: changing it re-evaluates the
group and removes members first (groups-troubleshooting.md), so an equivalent rule is left as it is.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

MAX_LENGTH = 3072
MAX_NESTING = 50
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_TOKEN = re.compile(r"""(?P<space>\s+)|(?P<dq>"(?:\\"|`"|[^"])*")|(?P<sq>'(?:''|[^'])*')
    |(?P<date>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)|(?P<num>\d+(?:\.\d+)?)
    |(?P<op>-[A-Za-z_][A-Za-z0-9_.]*)|(?P<word>\$?[A-Za-z_][A-Za-z0-9_.]*)|(?P<punct>[()\[\],])""", re.X)
_NAMES = ("-eq -ne -startsWith -notStartsWith -endsWith -notEndsWith -contains -notContains -match -notMatch "
          "-in -notIn -le -ge").split()
OPERATORS = dict((name[1:].lower(), name) for name in _NAMES + ["-any", "-all", "-and", "-or", "-not"])
_STRING_OPS = set(OPERATORS) - set(["le", "ge", "any", "all", "and", "or", "not"])
_TYPE_OPS = {"bool": set(["eq", "ne"]), "date": set(["eq", "ne", "le", "ge"]), "string": _STRING_OPS,
             "strings": _STRING_OPS | set(["any", "all"]), "plans": set(["any", "all"]), "groups": set(["any", "all"])}
_PROPERTIES = {
    "user": {"bool": "accountEnabled dirSyncEnabled", "date": "employeeHireDate",
             "string": "city country companyName department displayName employeeId facsimileTelephoneNumber givenName "
                       "jobTitle mail mailNickName mobile objectId onPremisesDistinguishedName "
                       "onPremisesSecurityIdentifier passwordPolicies physicalDeliveryOfficeName postalCode "
                       "preferredLanguage sipProxyAddress state streetAddress surname telephoneNumber usageLocation "
                       "userPrincipalName userType",
             "strings": "otherMails proxyAddresses", "plans": "assignedPlans", "groups": "memberOf"},
    "device": {"bool": "accountEnabled isRooted",
               "string": "deviceCategory deviceId deviceManagementAppId deviceManufacturer deviceModel displayName "
                         "deviceOSType deviceOSVersion deviceOwnership deviceTrustType enrollmentProfileName "
                         "managementType objectId profileType",
               "strings": "devicePhysicalIds systemLabels", "groups": "memberOf"},
}
_LOOKUP = dict(((kind, name.lower()), (name, ptype)) for kind, types in _PROPERTIES.items()
               for ptype, names in types.items() for name in names.split())
_EXTENSION = re.compile(r"^(extensionAttribute(?:[1-9]|1[0-5])|extension_[0-9a-f]{32}_\w+)$", re.I)
_ITEMS = {"strings": ("_",), "plans": ("assignedPlan.capabilityStatus", "assignedPlan.service",
                                       "assignedPlan.servicePlanId"), "groups": ("group.objectId",)}
_TYPE_NAMES = {"bool": "a boolean property", "date": "a date property", "string": "a string property",
               "strings": "a multi-value property", "plans": "compared item by item with -any or -all",
               "groups": "written memberOf -any (group.objectId -in [...])"}
_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$", re.I)
_BOTH_REJECT = ("nothing to repeat", "multiple repeat", "missing )", "unbalanced parenthesis",
                "unterminated character set", "bad character range")
_LOOKALIKES = {u"\u2013": "an en dash", u"\u2014": "an em dash", u"\u201c": "a curly quote", u"\u201d": "a curly quote"}


class RuleError(ValueError):
    """A rule Entra would refuse; ``problems`` lists every problem found (messages as :func:`problems`)."""

    def __init__(self, problems):
        super(RuleError, self).__init__("; ".join(problems))
        self.problems = problems


class _Parser(object):
    def __init__(self, text, fold):
        self.text, self.fold, self.problems = text, fold, []
        self.tokens, self.i, self.kinds, self.member_of = [], 0, {}, None
        self._lex()

    def where(self, pos):
        if "\n" not in self.text:
            return "character %d" % (pos + 1)
        line = self.text.count("\n", 0, pos)
        return "line %d, character %d" % (line + 1, pos - (self.text.rfind("\n", 0, pos) + 1) + 1)

    def fail(self, pos, message):
        self.problems.append("%s: %s" % (self.where(pos), message))

    def _lex(self):
        pos, text = 0, self.text
        while pos < len(text):
            found = _TOKEN.match(text, pos)
            if not found:
                char = text[pos]
                if char in ('"', "'"):
                    self.fail(pos, "the quote %s opened here is not closed" % char)
                    return
                what = _LOOKALIKES.get(char)
                self.fail(pos, "%r is %s; operators take a hyphen (-) or none, strings straight double quotes"
                          % (char, what) if what else "%r cannot appear in a rule outside a string" % char)
                pos += 1
                continue
            kind = found.lastgroup
            raw = found.group(kind)
            if kind == "dq":
                self.tokens.append(("str", raw, pos, raw[1:-1].replace('\\"', '"').replace('`"', '"')))
            elif kind == "sq":
                self.tokens.append(("str", raw, pos, raw[1:-1].replace("''", "'")))
            elif kind == "punct":
                self.tokens.append((raw, raw, pos, raw))
            elif kind != "space":
                self.tokens.append((kind, raw, pos, raw.lstrip("-").lower() if kind in ("op", "word") else raw))
            pos = found.end()

    def peek(self, offset=0):
        index = self.i + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def at(self, *keys):
        token = self.peek()
        return token is not None and token[0] in ("op", "word") and token[3] in keys

    def end_pos(self):
        return len(self.text.rstrip()) if self.text.strip() else 0

    def describe(self, token):
        return "the end of the rule" if token is None else "'%s'" % token[1]

    def nesting(self):
        depth = run = 0
        for token in self.tokens:
            depth += {"(": 1, ")": -1}.get(token[0], 0)
            run = run + 1 if token[0] in ("op", "word") and token[3] == "not" else 0
            if depth > MAX_NESTING or run > MAX_NESTING:
                self.fail(token[2], "more than %d parentheses or -not are nested here; this check stops at %d"
                          % (MAX_NESTING, MAX_NESTING))
                return False
        return True

    def rule(self):
        if not self.tokens:
            if not self.problems:
                self.problems.append("the rule is empty")
            return None
        words = [t[3] for t in self.tokens[:3] if t[0] == "word"]
        if words == ["direct", "reports", "for"]:
            return self.direct_reports()
        node = self.expression(None)
        while self.peek() is not None:
            token, start = self.peek(), self.i
            if token[0] == ")":
                self.fail(token[2], "this ')' has no matching '('")
                self.i += 1
            else:
                self.fail(token[2], "%s follows a complete condition; join conditions with -and or -or"
                          % self.describe(token))
                self.expression(None)
            if self.i == start:
                self.i += 1
        return node

    def direct_reports(self):
        self.i = 3
        token = self.peek()
        self.kinds.setdefault("user", self.tokens[0][2])
        if token is None or not token[1].startswith('"') or not _GUID.match(token[3]):
            self.fail(token[2] if token else self.end_pos(), "Direct Reports for takes the manager's object id "
                      "in double quotes, found %s" % self.describe(token))
            return None
        if self.peek(1) is not None:
            self.fail(self.peek(1)[2], "a Direct Reports rule cannot be combined with other conditions")
        self.i = len(self.tokens)
        return ("reports", token[3].lower())

    def expression(self, scope):
        return self.chain(scope, "or", lambda: self.chain(scope, "and", lambda: self.negation(scope)))

    def chain(self, scope, key, operand):
        items = [operand()]
        while self.at(key):
            self.i += 1
            items.append(operand())
        if len(items) == 1 or None in items:
            return items[0] if len(items) == 1 else None
        flat = set()
        for item in items:
            flat.update(item[1] if item[0] == key else [item])
        return (key, frozenset(flat)) if len(flat) > 1 else flat.pop()

    def negation(self, scope):
        if self.at("not"):
            self.i += 1
            inner = self.negation(scope)
            if inner is None:
                return None
            return inner[1] if inner[0] == "not" else ("not", inner)
        token = self.peek()
        if token is not None and token[0] == "(":
            self.i += 1
            node = self.expression(scope)
            if self.peek() is not None and self.peek()[0] == ")":
                self.i += 1
            else:
                self.fail(token[2], "this '(' is not closed")
            return node
        return self.condition(scope)

    def skip(self):
        depth = 0
        while self.peek() is not None:
            kind = self.peek()[0]
            if depth == 0 and (kind == ")" or self.at("and", "or")):
                return
            depth += {"(": 1, ")": -1}.get(kind, 0)
            self.i += 1

    def condition(self, scope):
        token = self.peek()
        if token is None or token[0] != "word" or token[3] in OPERATORS:
            self.fail(token[2] if token else self.end_pos(), "a condition such as user.department -eq \"Sales\" "
                      "is expected here, found %s" % self.describe(token))
            self.skip()
            return None
        self.i += 1
        subject, ptype = self.subject(token, scope)
        op_token = self.peek()
        op = op_token[3] if op_token is not None and op_token[0] in ("op", "word") else None
        if op not in OPERATORS or op in ("and", "or", "not"):
            self.fail(op_token[2] if op_token else self.end_pos(), "%s is not a comparison operator; use one of %s"
                      % (self.describe(op_token), ", ".join(_NAMES[:12])))
            self.skip()
            return None
        self.i += 1
        if ptype is not None and op not in _TYPE_OPS[ptype]:
            self.fail(op_token[2], "%s does not take %s (%s)" % (token[1], OPERATORS[op], _TYPE_NAMES[ptype]))
        if op in ("any", "all"):
            return self.quantified(op, subject, ptype)
        return ("cmp", subject, op, self.value(op, ptype))

    def subject(self, token, scope):
        name = token[3]
        if scope is not None:
            if name not in [item.lower() for item in _ITEMS[scope]]:
                self.fail(token[2], "inside this -any/-all the item is %s, not '%s'"
                          % (" or ".join(_ITEMS[scope]), token[1]))
            return name, "string"
        if name == "_" or name.split(".")[0] in ("assignedplan", "group"):
            self.fail(token[2], "'%s' is an item of a multi-value property and appears only inside -any or -all"
                      % token[1])
            return name, None
        kind, _dot, prop = name.partition(".")
        if not prop or kind not in ("user", "device"):
            self.fail(token[2], "'%s' has no object type: write user.%s or device.%s (Graph: No object type)"
                      % (token[1], token[1].split(".")[-1], token[1].split(".")[-1]))
            return name, None
        self.kinds.setdefault(kind, token[2])
        if prop == "memberof":
            self.member_of = token[2]
        known = _LOOKUP.get((kind, prop))
        if known is None and _EXTENSION.match(prop):
            known = (prop, "string")
        if known is None:
            self.fail(token[2], "'%s' is not a %s property Entra supports in rules" % (token[1], kind))
            return name, None
        return "%s.%s" % (kind, known[0].lower()), known[1]

    def quantified(self, op, subject, ptype):
        scope = ptype if ptype in _ITEMS else "strings"
        token = self.peek()
        if token is not None and token[0] == "(":
            inner = self.negation(scope)
        else:
            inner = self.condition(scope)
        return None if inner is None else (op, subject, inner)

    def value(self, op, ptype):
        token = self.peek()
        if op in ("in", "notin"):
            return self.listing(op, token)
        if token is not None and token[0] == "[":
            self.fail(token[2], "a list in [ ] goes with -in or -notIn, not %s" % OPERATORS[op])
            self.skip()
            return None
        if token is not None and (token[0] == "(" and self.peek(1) is not None and self.peek(1)[3] == "system.now"):
            self.i += 1
            node = self.value(op, ptype)
            if self.peek() is not None and self.peek()[0] == ")":
                self.i += 1
            else:
                self.fail(token[2], "this '(' is not closed")
            return node
        if token is None or token[0] not in ("str", "num", "date", "word"):
            self.fail(token[2] if token else self.end_pos(), "%s takes a value, found %s"
                      % (OPERATORS[op], self.describe(token)))
            self.skip()
            return None
        self.i += 1
        if token[0] == "word" and token[3] in ("null", "$null"):
            if op not in ("eq", "ne"):
                self.fail(token[2], "null is compared with -eq or -ne only, not %s" % OPERATORS[op])
            return ("null",)
        if token[0] == "word" and token[3] in ("true", "false"):
            return ("bool", token[3] == "true")
        if token[0] == "word" and token[3] == "system.now":
            return self.now(token, ptype)
        if token[0] == "word":
            self.fail(token[2], "'%s' is not a value: put text in double quotes (\"%s\")" % (token[1], token[1]))
            return None
        if ptype == "date" and token[0] != "str" or token[0] == "date":
            return ("date", token[3].upper())
        if token[0] == "num":
            return ("num", token[3])
        if op in ("match", "notmatch"):
            self.check_regex(token)
            return ("re", token[3])
        return ("str", token[3].lower() if self.fold else token[3])

    def now(self, token, ptype):
        if ptype != "date":
            self.fail(token[2], "system.now is compared with user.employeeHireDate only")
        if not self.at("plus", "minus"):
            return ("now",)
        sign = self.peek()[3]
        self.i += 1
        duration = self.peek()
        if duration is None or duration[0] != "word" or not _DURATION.match(duration[1]):
            self.fail(duration[2] if duration else self.end_pos(), "-%s takes an ISO 8601 duration such as P30D, "
                      "found %s" % (sign, self.describe(duration)))
            return None
        self.i += 1
        return ("now", sign, duration[1].upper())

    def listing(self, op, token):
        if token is None or token[0] != "[":
            self.fail(token[2] if token else self.end_pos(), "%s takes a list in [ ], found %s"
                      % (OPERATORS[op], self.describe(token)))
            self.skip()
            return None
        self.i += 1
        items = []
        while True:
            item = self.peek()
            if item is None or item[0] not in ("str", "num"):
                self.fail(item[2] if item else self.end_pos(), "a list item is a quoted string or a number, found %s"
                          % self.describe(item))
                self.skip()
                return None
            self.i += 1
            items.append((item[0], item[3].lower() if self.fold and item[0] == "str" else item[3]))
            after = self.peek()
            self.i += 1
            if after is not None and after[0] == "]":
                return ("list", frozenset(items))
            if after is None or after[0] != ",":
                self.fail(after[2] if after else self.end_pos(), "the list opened at %s needs ',' between items and "
                          "']' at its end, found %s" % (self.where(token[2]), self.describe(after)))
                self.i -= 1
                self.skip()
                return None

    def check_regex(self, token):
        try:
            re.compile(token[3])
        except re.error as exc:
            if str(exc).startswith(_BOTH_REJECT):
                self.fail(token[2], "the regular expression %s is invalid: %s" % (token[1], exc))


def _run(rule, fold=True):
    if not isinstance(rule, str):
        raise RuleError(["the rule must be a string, got %s" % type(rule).__name__])
    parser = _Parser(rule, fold)
    try:
        tree = parser.rule() if parser.nesting() else None
    except RecursionError:
        parser.problems.append("the rule nests parentheses or -not too deeply to be checked")
        tree = None
    if len(rule) > MAX_LENGTH:
        parser.problems.append("the rule has %d characters; Entra allows at most %d" % (len(rule), MAX_LENGTH))
    if len(parser.kinds) > 1:
        parser.problems.append("the rule mixes user properties (%s) and device properties (%s); a rule selects "
                               "either users or devices" % (parser.where(parser.kinds["user"]),
                                                            parser.where(parser.kinds["device"])))
    alone = tree is None or (tree[0] in ("any", "all") and tree[1].endswith(".memberof"))
    if parser.member_of is not None and not alone:
        parser.problems.append("%s: memberOf cannot be combined with other conditions (groups-dynamic-rule-member-of)"
                               % parser.where(parser.member_of))
    if parser.problems:
        raise RuleError(parser.problems)
    return list(parser.kinds)[0], tree


def parse(rule):
    """``(kind, tree)`` of a valid rule: ``kind`` is ``"user"`` or ``"device"``, ``tree`` the normalized form.

    ``tree`` is made of tuples and frozensets (hashable, comparable): ``("or"|"and", frozenset(nodes))``,
    ``("not", node)``, ``("cmp", subject, operator, value)``, ``("any"|"all", subject, node)``,
    ``("reports", manager_id)``; ``subject`` is lower-case (``"device.devicephysicalids"``, ``"_"``), operators
    are lower-case without hyphen. Raises :class:`RuleError` listing every problem otherwise.
    """
    return _run(rule)


def problems(rule):
    """Every reason Entra would refuse ``rule``, in order, each starting with where it is ("character 12:",
    "line 2, character 5:"; rule-wide ones without); an empty list for a valid rule. Never raises."""
    try:
        _run(rule)
    except RuleError as exc:
        return list(exc.problems)
    return []


def equivalent(a, b):
    """Whether rules ``a`` and ``b`` select the same objects by the normalization above (see the module's
    docstring). Equal strings (or both ``None``) are equivalent; an invalid rule is equivalent only to itself."""
    if a == b:
        return True
    try:
        return parse(a) == parse(b)
    except RuleError:
        return False


def _autopilot_item(rule, quantifier="any", fold=True):
    try:
        kind, tree = _run(rule, fold)
    except RuleError:
        return None
    if tree[0] == quantifier and tree[1] == "device.devicephysicalids" and tree[2][0] == "cmp":
        return tree[2]
    return None


def group_tag(rule):
    """The Autopilot group tag that ``rule`` selects when it selects the devices of exactly one tag, else None.

    The forms: ``device.devicePhysicalIds -any (_ -eq "[OrderID]:<tag>")`` (MicrosoftDocs/memdocs
    autopilot/enrollment-autopilot.md: "Intune's group tag field maps to the OrderID attribute"), with any
    parentheses, case and hyphen form, and ``-in`` a one-item list. The tag is returned as written; Entra
    compares it without case. A prefix (``-startsWith``), ``-contains`` or ``-match`` selects several tags: None.
    """
    item = _autopilot_item(rule, fold=False)
    if item is None or item[2] not in ("eq", "in"):
        return None
    value = item[3]
    if value[0] == "list":
        if len(value[1]) != 1:
            return None
        value = list(value[1])[0]
    if value[0] != "str" or not value[1].lower().startswith("[orderid]:") or len(value[1]) == len("[orderid]:"):
        return None
    return value[1][len("[orderid]:"):]


def is_all_autopilot(rule):
    """Whether ``rule`` is the all-Autopilot-devices rule: ``device.devicePhysicalIds -any (_ -startsWith
    "[ZTDId]")`` (memdocs autopilot/includes/create-dynamic-device-group.md) or ``-contains "[ZTDID]"``
    (memdocs autopilot/enrollment-autopilot.md), in any spelling of the tag, case, hyphen or parentheses."""
    item = _autopilot_item(rule)
    return item is not None and item[2] in ("startswith", "contains") and item[3] == ("str", "[ztdid]")


def quote(text):
    """``text`` as a double-quoted rule string, its double quotes escaped with a backslash [DM]."""
    return '"%s"' % str(text).replace('"', '\\"')

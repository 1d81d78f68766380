"""Dynamic membership rules (Entra ID), evaluated against the tenant's device and user objects.

Source: MicrosoftDocs/entra-docs docs/identity/users/groups-dynamic-membership.md - a rule is
``object.property -operator value`` terms joined with ``-and`` / ``-or`` and negated with ``-not``,
in parentheses or not; string values in double quotes; multi-valued properties with ``-any`` / ``-all``
and the ``_`` placeholder (``device.devicePhysicalIds -any (_ -startsWith "[ZTDId]")``, the inner
parentheses optional as the Entra reference table writes them); "string and regex operations aren't
case sensitive". Operators: ``-eq -ne -startsWith -notStartsWith -contains -notContains -match
-notMatch -in -notIn``. A rule addresses users or devices, never both (groups-overview.md).

The Autopilot forms (MicrosoftDocs/memdocs autopilot/enrollment-autopilot.md and
autopilot/includes/create-dynamic-device-group.md) use both ``devicePhysicalIDs`` and
``devicePhysicalIds`` and both ``[ZTDid]`` and ``[ZTDID]``; property names are therefore matched
case-insensitively here (the docs call them case-sensitive yet publish both spellings).
``device.devicePhysicalIds`` reads the Graph ``device.physicalIds`` collection.
"""

import re

_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>-[A-Za-z]+)|(?P<punct>[()\[\],])'
                    r'|(?P<name>[A-Za-z_][\w.]*))')
STRING_OPS = ("eq", "ne", "startswith", "notstartswith", "contains", "notcontains", "match", "notmatch", "in", "notin")
ALIASES = {"devicephysicalids": "physicalIds", "objectid": "id"}


class RuleError(ValueError):
    pass


def _tokens(text):
    out, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        found = _TOKEN.match(text, pos)
        if not found or found.end() == pos:
            raise RuleError("unexpected character at position %d" % pos)
        kind = found.lastgroup
        value = found.group(kind)
        if kind == "str":
            out.append(("str", re.sub(r"\\(.)", r"\1", value[1:-1])))
        elif kind == "op":
            out.append(("op", value[1:].lower()))
        elif kind == "punct":
            out.append((value, value))
        else:
            low = value.lower()
            out.append(("lit", low == "true") if low in ("true", "false") else ("lit", None) if low == "null" else ("name", value))
        pos = found.end()
    return out


class _Parser:
    def __init__(self, text):
        self.tokens = _tokens(text)
        self.pos = 0
        self.kinds = set()

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self, kind):
        token = self.peek()
        if token[0] != kind:
            raise RuleError("expected %s at token %d" % (kind, self.pos))
        self.pos += 1
        return token[1]

    def is_op(self, name):
        if self.peek() == ("op", name):
            self.pos += 1
            return True
        return False

    def parse(self):
        node = self.disjunction()
        if self.pos != len(self.tokens):
            raise RuleError("unexpected token '%s'" % (self.peek()[1],))
        return node

    def disjunction(self):
        node = self.conjunction()
        while self.is_op("or"):
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self):
        node = self.negation()
        while self.is_op("and"):
            node = ("and", node, self.negation())
        return node

    def negation(self):
        if self.is_op("not"):
            return ("not", self.negation())
        return self.term()

    def term(self):
        if self.peek()[0] == "(":
            self.pos += 1
            node = self.disjunction()
            self.take(")")
            return node
        name = self.take("name")
        if "." not in name:
            raise RuleError("property '%s' must be written as user.<property> or device.<property>" % name)
        kind, prop = name.split(".", 1)
        if kind.lower() not in ("user", "device"):
            raise RuleError("unknown object '%s'" % kind)
        self.kinds.add(kind.lower())
        op = self.take("op")
        if op in ("any", "all"):
            inner_paren = self.peek()[0] == "("
            if inner_paren:
                self.pos += 1
            placeholder = self.take("name")
            if placeholder != "_":
                raise RuleError("-%s expects the _ placeholder" % op)
            inner_op = self.take("op")
            if inner_op not in STRING_OPS:
                raise RuleError("unknown operator -%s" % inner_op)
            value = self.value(inner_op)
            if inner_paren:
                self.take(")")
            return ("multi", op, kind.lower(), prop, inner_op, value)
        if op not in STRING_OPS:
            raise RuleError("unknown operator -%s" % op)
        return ("cmp", kind.lower(), prop, op, self.value(op))

    def value(self, op):
        if op in ("in", "notin"):
            self.take("[")
            values = [self.take("str")]
            while self.peek()[0] == ",":
                self.pos += 1
                values.append(self.take("str"))
            self.take("]")
            return values
        kind, value = self.peek()
        if kind in ("str", "lit"):
            self.pos += 1
            return value
        raise RuleError("expected a quoted value at token %d" % self.pos)


def parse(rule):
    """``(ast, object kind)`` where the kind is ``device`` or ``user``; :class:`RuleError` otherwise."""
    if not isinstance(rule, str) or not rule.strip():
        raise RuleError("the rule is empty")
    if len(rule) > 3072:
        raise RuleError("the rule is longer than 3072 characters")
    parser = _Parser(rule)
    ast = parser.parse()
    if len(parser.kinds) != 1:
        raise RuleError("a rule addresses either users or devices, not both")
    return ast, parser.kinds.pop()


def _prop(entity, name):
    low = name.lower()
    if low in ALIASES:
        return entity.get(ALIASES[low])
    for key, value in entity.items():
        if key.lower() == low:
            return value
    return None


def _single(op, actual, expected):
    if isinstance(actual, bool) or isinstance(expected, bool) or actual is None or expected is None:
        if op == "eq":
            return actual == expected
        if op == "ne":
            return actual != expected
        actual = "" if actual is None else str(actual)
    actual = str(actual).lower()
    if op in ("in", "notin"):
        found = actual in [v.lower() for v in expected]
        return found if op == "in" else not found
    expected = str(expected).lower()
    if op in ("match", "notmatch"):
        found = re.search(expected, actual, re.I) is not None
        return found if op == "match" else not found
    return {"eq": actual == expected, "ne": actual != expected,
            "startswith": actual.startswith(expected), "notstartswith": not actual.startswith(expected),
            "contains": expected in actual, "notcontains": expected not in actual}[op]


def evaluate(ast, entity):
    kind = ast[0]
    if kind == "or":
        return evaluate(ast[1], entity) or evaluate(ast[2], entity)
    if kind == "and":
        return evaluate(ast[1], entity) and evaluate(ast[2], entity)
    if kind == "not":
        return not evaluate(ast[1], entity)
    if kind == "cmp":
        _dummy1, _dummy2, prop, op, value = ast
        return _single(op, _prop(entity, prop), value)
    _dummy1, quantifier, _dummy2, prop, op, value = ast
    values = _prop(entity, prop) or []
    results = [_single(op, v, value) for v in values]
    return any(results) if quantifier == "any" else bool(results) and all(results)

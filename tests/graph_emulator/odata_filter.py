"""The ``$filter`` language: a small recursive-descent parser and evaluator.

Grammar (microsoftgraph/microsoft-graph-docs-contrib concepts/filter-query-parameter.md and
query-parameters.md): ``or`` < ``and`` < ``not`` < comparison (``eq ne gt ge lt le``, ``in (...)``) <
primary (parentheses, ``startswith/endswith/contains(prop, 'x')``, lambda ``prop/any(x: ...)`` and
``all``, literals, property paths such as ``state/deviceImportStatus``). String literals are in single
quotes with ``''`` for a quote; ``true``/``false``/``null``, numbers and bare GUIDs are literals.
String comparisons are case-insensitive, as Graph's are for the properties the collection filters on.
"""

import re

_TOKEN = re.compile(r"""\s*(?:
    (?P<str>'(?:[^']|'')*')
  | (?P<num>-?\d+(?:\.\d+)?(?![\w-]))
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})
  | (?P<punct>[(),:])
  | (?P<name>[A-Za-z_@$][\w@.$]*(?:/[A-Za-z_@$][\w@.$]*)*)
)""", re.X)
_COMPARE = ("eq", "ne", "gt", "ge", "lt", "le")


class FilterError(ValueError):
    pass


def _tokenize(text):
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        found = _TOKEN.match(text, pos)
        if not found or found.end() == pos:
            raise FilterError("Syntax error at position %d in '%s'." % (pos, text))
        kind = found.lastgroup
        value = found.group(kind)
        if kind == "str":
            tokens.append(("lit", value[1:-1].replace("''", "'")))
        elif kind == "num":
            tokens.append(("lit", float(value) if "." in value else int(value)))
        elif kind == "guid":
            tokens.append(("lit", value))
        elif kind == "punct":
            tokens.append((value, value))
        else:
            low = value.lower()
            if low in ("true", "false"):
                tokens.append(("lit", low == "true"))
            elif low == "null":
                tokens.append(("lit", None))
            else:
                tokens.append(("name", value))
        pos = found.end()
    return tokens


class _Parser:
    """Recursive descent: or > and > not > comparison > primary."""

    def __init__(self, text):
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.ops = set()

    def peek(self, offset=0):
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else (None, None)

    def take(self, kind=None):
        token = self.peek()
        if token[0] is None or (kind and token[0] != kind):
            raise FilterError("Syntax error: expected %s at token %d in '%s'." % (kind or "a term", self.pos, self.text))
        self.pos += 1
        return token

    def keyword(self, word):
        kind, value = self.peek()
        if kind == "name" and value.lower() == word:
            self.pos += 1
            return True
        return False

    def parse(self):
        node = self.expr()
        if self.pos != len(self.tokens):
            raise FilterError("Syntax error at token %d ('%s') in '%s'." % (self.pos, self.peek()[1], self.text))
        return node

    def expr(self):
        node = self.conj()
        while self.keyword("or"):
            self.ops.add("or")
            node = ("or", node, self.conj())
        return node

    def conj(self):
        node = self.unary()
        while self.keyword("and"):
            self.ops.add("and")
            node = ("and", node, self.unary())
        return node

    def unary(self):
        if self.keyword("not"):
            self.ops.add("not")
            return ("not", self.unary())
        return self.comparison()

    def comparison(self):
        left = self.primary()
        kind, value = self.peek()
        if kind == "name" and value.lower() in _COMPARE:
            self.pos += 1
            op = value.lower()
            self.ops.add(op)
            return ("cmp", op, left, self.primary())
        if kind == "name" and value.lower() == "in":
            self.pos += 1
            self.ops.add("in")
            self.take("(")
            values = [self.take("lit")[1]]
            while self.peek()[0] == ",":
                self.pos += 1
                values.append(self.take("lit")[1])
            self.take(")")
            return ("in", left, values)
        return left

    def primary(self):
        kind, value = self.peek()
        if kind == "(":
            self.pos += 1
            node = self.expr()
            self.take(")")
            return node
        if kind == "lit":
            self.pos += 1
            return ("lit", value)
        if kind == "name":
            self.pos += 1
            low = value.lower()
            if self.peek()[0] == "(":
                if low in ("startswith", "endswith", "contains"):
                    self.ops.add(low)
                    self.take("(")
                    subject = self.primary()
                    self.take(",")
                    needle = self.primary()
                    self.take(")")
                    return ("fn", low, subject, needle)
                if "/" in value and low.rsplit("/", 1)[1] in ("any", "all"):
                    lam = low.rsplit("/", 1)[1]
                    self.ops.add(lam)
                    self.take("(")
                    var = self.take("name")[1]
                    self.take(":")
                    body = self.expr()
                    self.take(")")
                    return ("lambda", lam, value.rsplit("/", 1)[0], var, body)
                raise FilterError("An unknown function with name '%s' was found." % value)
            return ("prop", value)
        raise FilterError("Syntax error at token %d in '%s'." % (self.pos, self.text))


def parse_filter(text):
    """``(ast, ops used)`` or :class:`FilterError`."""
    parser = _Parser(text)
    return parser.parse(), parser.ops


def _resolve(path, item, env):
    parts = path.split("/")
    if parts[0] in env:
        value, parts = env[parts[0]], parts[1:]
    else:
        value = item
    for part in parts:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _value(node, item, env):
    if node[0] == "lit":
        return node[1]
    if node[0] == "prop":
        return _resolve(node[1], item, env)
    return _eval(node, item, env)


def _norm(value):
    return value.lower() if isinstance(value, str) else value


def _compare(op, left, right):
    left, right = _norm(left), _norm(right)
    if op == "eq":
        return left == right
    if op == "ne":
        return left != right
    if left is None or right is None:
        return False
    try:
        return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op]
    except TypeError:
        return False


def _eval(node, item, env):
    kind = node[0]
    if kind == "or":
        return bool(_eval(node[1], item, env) or _eval(node[2], item, env))
    if kind == "and":
        return bool(_eval(node[1], item, env) and _eval(node[2], item, env))
    if kind == "not":
        return not _eval(node[1], item, env)
    if kind == "cmp":
        return _compare(node[1], _value(node[2], item, env), _value(node[3], item, env))
    if kind == "in":
        value = _norm(_value(node[1], item, env))
        return value in [_norm(v) for v in node[2]]
    if kind == "fn":
        subject, needle = _value(node[2], item, env), _value(node[3], item, env)
        if not isinstance(subject, str) or not isinstance(needle, str):
            return False
        subject, needle = subject.lower(), needle.lower()
        return {"startswith": subject.startswith, "endswith": subject.endswith,
                "contains": subject.__contains__}[node[1]](needle)
    if kind == "lambda":
        _dummy, lam, path, var, body = node
        values = _resolve(path, item, env) or []
        results = [_eval(body, item, dict(env, **{var: v})) for v in values]
        return any(results) if lam == "any" else all(results)
    if kind in ("prop", "lit"):
        return bool(_value(node, item, env))
    raise FilterError("Unsupported filter node %r" % (kind,))


def matches(ast, item):
    return bool(_eval(ast, item, {}))

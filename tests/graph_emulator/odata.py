"""OData query options for list answers: ``$filter``, ``$select``, ``$orderby``, ``$count``, ``$top``,
``$skip``, ``$search`` and paging with ``@odata.nextLink``.

Sources (microsoftgraph/microsoft-graph-docs-contrib):

* concepts/query-parameters.md - the options, the filter operators (``eq ne not in gt ge lt le and or``,
  ``startsWith endsWith contains``, lambda ``any``/``all`` on collections such as ``groupTypes``),
  string literals in single quotes with ``''`` escaping.
* concepts/paging.md - ``@odata.nextLink`` is an absolute URL carrying ``$skiptoken`` and the original
  query options; clients follow it verbatim; ``@odata.count`` only on the first page.
* api-reference/v1.0/api/group-list.md, user-list.md, device-list.md - directory page size: default
  100, ``$top`` up to 999, ``$skip`` not supported.
* concepts/aad-advanced-queries.md - on directory objects, ``ne``, ``not``, ``endsWith``, ``$count``
  and ``$filter`` together with ``$orderby`` need ``ConsistencyLevel: eventual`` and ``$count=true``
  (``$search`` only the header); without them the service answers 400 ``Request_UnsupportedQuery``;
  ``$count=true`` alone without the header is ignored.

The emulator's page size is ``tenant.settings['page_size']`` (default 100), lowered by ``$top``.
"""

import base64
import json
import re
from urllib.parse import quote

from .core import GraphHTTPError, Response, public

ALL_OPS = frozenset(("eq", "ne", "gt", "ge", "lt", "le", "in", "and", "or", "not",
                     "startswith", "endswith", "contains", "any", "all"))
ADVANCED_OPS = frozenset(("ne", "not", "endswith"))
KNOWN_OPTIONS = frozenset(("$filter", "$select", "$orderby", "$count", "$top", "$skip", "$skiptoken",
                           "$search", "$expand", "$format"))
DIRECTORY_MAX_TOP = 999
CONTEXT_ROOT = "https://graph.microsoft.com"

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
        _, lam, path, var, body = node
        values = _resolve(path, item, env) or []
        results = [_eval(body, item, dict(env, **{var: v})) for v in values]
        return any(results) if lam == "any" else all(results)
    if kind in ("prop", "lit"):
        return bool(_value(node, item, env))
    raise FilterError("Unsupported filter node %r" % (kind,))


def matches(ast, item):
    return bool(_eval(ast, item, {}))


# --- the list helper ------------------------------------------------------------------------------

def _error(directory, message, code=None):
    return GraphHTTPError(400, code or ("Request_BadRequest" if directory else "BadRequest"), message)


def _encode_token(offset):
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode_token(token, directory):
    try:
        padded = token + "=" * (-len(token) % 4)
        offset = int(json.loads(base64.urlsafe_b64decode(padded.encode()))["o"])
        if offset < 0:
            raise ValueError(offset)
        return offset
    except (ValueError, KeyError, TypeError):
        raise _error(directory, "Invalid $skiptoken value '%s'." % token)


def _int_option(req, name, directory):
    raw = req.query.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _error(directory, "Invalid value '%s' for query option '%s'. It must be a non-negative integer." % (raw, name))
    if value < 0:
        raise _error(directory, "Invalid value '%s' for query option '%s'. It must be a non-negative integer." % (raw, name))
    return value


def eventual(req):
    return str(req.header("ConsistencyLevel", "")).lower() == "eventual"


def count_requested(req, directory):
    raw = req.query.get("$count")
    if raw is None:
        return False
    if raw.lower() not in ("true", "false"):
        raise _error(directory, "Invalid value '%s' for query option '$count'." % raw)
    return raw.lower() == "true"


def parse_orderby(text, directory):
    keys = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise _error(directory, "Invalid $orderby clause '%s'." % text)
        keys.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return keys


def select(entity, req):
    """Apply ``$select`` to one entity (annotations such as ``@odata.type`` are kept)."""
    raw = req.query.get("$select")
    if not raw:
        return entity
    wanted = {name.strip() for name in raw.split(",") if name.strip()}
    return {k: v for k, v in entity.items() if k in wanted or k.startswith("@odata.")}


def context_url(req, context):
    return "%s/%s/$metadata#%s" % (CONTEXT_ROOT, req.version, context)


def default_context(req):
    return req.path.strip("/")


def entity_response(req, entity, context=None, status=200):
    """One entity as Graph answers a GET by id: ``@odata.context`` first, ``$select`` applied, ``_`` keys gone."""
    body = {"@odata.context": context_url(req, (context or default_context(req).rsplit("/", 1)[0]) + "/$entity")}
    body.update(select(public(entity), req))
    return Response(status, body)


def list_response(req, tenant, items, filter_ops=None, orderby=True, count=True, directory=False, context=None):
    """A collection answer for ``items`` with the request's OData options applied.

    ``filter_ops``: ``None`` allows every operator the parser knows, a set allows only those
    operators/functions (``{"contains"}``), an empty set means ``$filter`` is not supported.
    ``orderby``: ``True``, ``False`` or a set of property names that may be sorted on.
    ``directory``: apply the advanced-query rules of Entra directory objects and their ``$top`` limit.
    """
    query = req.query
    for option in query:
        if option.startswith("$") and option.lower() not in KNOWN_OPTIONS:
            raise _error(directory, "Query option '%s' is not allowed. Make sure that the query option is supported." % option)
    if "$expand" in query:
        raise GraphHTTPError(501, "NotImplemented", "The Graph emulator does not implement $expand on '%s'." % req.path)
    advanced = directory and eventual(req)
    want_count = count_requested(req, directory)
    if want_count and not count:
        raise _error(directory, "Query option '$count' is not supported on this resource.")
    if directory and want_count and not advanced:
        want_count = False  # aad-advanced-queries.md: ignored without the ConsistencyLevel header
    if directory and "$skip" in query:
        raise _error(directory, "'$skip' is not supported by the service.", "Request_BadRequest")

    result = list(items)  # filtered and sorted as stored; only the page is copied by public()

    search = query.get("$search")
    if search is not None:
        if directory and not eventual(req):
            raise GraphHTTPError(400, "Request_UnsupportedQuery",
                                 "Request with $search query parameter only works through MSGraph with a special request "
                                 "header: 'ConsistencyLevel: eventual'")
        found = re.fullmatch(r'\s*"(\w+):([^"]*)"\s*', search)
        if not found:
            raise _error(directory, "Syntax error: invalid $search clause '%s'." % search)
        prop, needle = found.group(1), found.group(2).lower()
        result = [item for item in result if needle in str(item.get(prop) or "").lower()]

    raw_filter = query.get("$filter")
    if raw_filter is not None:
        if filter_ops is not None and not filter_ops:
            raise _error(directory, "Query option '$filter' is not supported on this resource.")
        try:
            ast, ops = parse_filter(raw_filter)
        except FilterError as exc:
            raise _error(directory, "Invalid filter clause: %s" % exc)
        if filter_ops is not None:
            refused = sorted(ops - set(filter_ops))
            if refused:
                raise _error(directory, "Invalid filter clause: the operator or function '%s' is not supported on this "
                                        "resource. Supported: %s." % (refused[0], ", ".join(sorted(filter_ops))))
        if directory:
            needs = sorted(ops & ADVANCED_OPS)
            if needs and not (advanced and want_count):
                name = {"endswith": "endsWith"}.get(needs[0], needs[0])
                raise GraphHTTPError(400, "Request_UnsupportedQuery",
                                     "Operator '%s' is not supported because the required parameters might be missing. "
                                     "Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer "
                                     "to https://aka.ms/graph-docs/advanced-queries for more information" % name)
        result = [item for item in result if matches(ast, item)]

    raw_order = query.get("$orderby")
    if raw_order is not None:
        keys = parse_orderby(raw_order, directory)
        if orderby is False:
            raise _error(directory, "Query option '$orderby' is not supported on this resource.")
        if orderby is not True:
            refused = [name for name, _ in keys if name not in orderby]
            if refused:
                raise _error(directory, "Sorting by '%s' is not supported. Supported: %s." % (refused[0], ", ".join(sorted(orderby))))
        if directory and raw_filter is not None and not (advanced and want_count):
            raise GraphHTTPError(400, "Request_UnsupportedQuery", "Sorting not supported for current query.")
        for name, desc in reversed(keys):
            present = [i for i in result if _resolve(name, i, {}) is not None]
            missing = [i for i in result if _resolve(name, i, {}) is None]
            present.sort(key=lambda i, n=name: _norm(_resolve(n, i, {})), reverse=desc)
            result = present + missing

    total = len(result)
    top = _int_option(req, "$top", directory)
    if directory and top is not None and not 1 <= top <= DIRECTORY_MAX_TOP:
        raise _error(directory, "Invalid page size specified: '%d'. Must be between 1 and %d inclusive." % (top, DIRECTORY_MAX_TOP))
    skip = _int_option(req, "$skip", directory) or 0
    token = query.get("$skiptoken")
    offset = _decode_token(token, directory) if token else skip
    size = int(tenant.settings.get("page_size", 100)) or 100
    if top is not None:
        size = min(size, top) if directory else min(size, max(top - (offset - skip), 0))
    page = result[offset:offset + size] if size else []

    body = {"@odata.context": context_url(req, context or default_context(req))}
    if want_count and not token:
        body["@odata.count"] = total
    end = offset + len(page)
    more = end < total and (directory or top is None or end - skip < top)
    if more and page:
        body["@odata.nextLink"] = next_link(req, end)
    body["value"] = [select(public(item), req) for item in page]
    return Response(200, body)


def next_link(req, offset):
    parts = ["%s=%s" % (quote(k, safe="$"), quote(str(v), safe="$'(),:/@ ").replace(" ", "%20"))
             for k, v in req.query.items() if k != "$skiptoken"]
    parts.append("$skiptoken=" + _encode_token(offset))
    return "%s/%s%s?%s" % (req.base_url, req.version, req.path, "&".join(parts))

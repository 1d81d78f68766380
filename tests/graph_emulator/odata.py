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
from .odata_filter import FilterError, _norm, _resolve, matches, parse_filter  # noqa: F401 (re-exported)

ADVANCED_OPS = frozenset(("ne", "not", "endswith"))
KNOWN_OPTIONS = frozenset(("$filter", "$select", "$orderby", "$count", "$top", "$skip", "$skiptoken",
                           "$search", "$expand", "$format"))
DIRECTORY_MAX_TOP = 999
CONTEXT_ROOT = "https://graph.microsoft.com"

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
            refused = [name for name, _dummy in keys if name not in orderby]
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

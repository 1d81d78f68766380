"""``POST /$batch`` (beta and v1.0): JSON batching.

Source: microsoftgraph/microsoft-graph-docs-contrib concepts/json-batching.md -

* body ``{"requests": [{"id", "method", "url", "headers", "body", "dependsOn"}]}``; at most 20
  requests; ``id`` unique (not case-sensitive) - a duplicate fails the whole batch with 400;
  ``url`` relative to the version root, with or without the leading slash; ``headers`` is required
  when ``body`` is present and must carry ``Content-Type``;
* answer 200 ``{"responses": [{"id", "status", "headers", "body"}]}`` whenever the batch itself parses,
  400 when it does not;
* ``dependsOn``: when a request it depends on fails, the dependant fails with 424 Failed Dependency;
* every inner request is authenticated, throttled (its own 429 and ``Retry-After`` in its inner
  ``headers``) and logged individually.

Order (``settings['batch_any_order']``, on in the realistic profile): the ids let "the server to process requests in
the batch in the most efficient order", and "Individual responses might appear in a different order than the
requests" (json-batching.md). The emulator then runs the requests in a random order (seeded with
``settings['seed']``) in which every request comes after those it ``dependsOn``, and answers in another random
order. It still runs them one after another: two requests on one object never interleave (whether Intune serialises
them is not documented). Without the setting (best case) requests run and answer in the order sent.

Writes without a body or a Content-Type (``settings['batch_write_needs_body']``, on in the realistic profile).
json-batching.md says ``headers`` are "required when the body is specified", and of a POST whose target takes no
body: "you must still specify the headers and body parameters where only body can be an empty object". Field
reports show what Graph does otherwise: a POST without a body is refused with 400 ``BadRequest`` "Write request
id : <id> does not contain Content-Type header or body." (microsoftgraph/msgraph-sdk-dotnet issue 2628, where the
SDK found no answer for the item), and a write with a body but no Content-Type with "Write request with id '<id>'
does not contain a Content-Type header." (Softeria/ms-365-mcp-server issue 677); the fix of that project (PR 683)
states "It is a batch-level validation failure, so the outer call 400s and none of the sub-requests run", also for
bodyless writes. So the emulator refuses the whole batch with that 400 before running anything. Write here means
POST, PATCH and PUT: json-batching.md's own example sends a DELETE with neither, and OData allows no body on it.
Without the setting (best case) a body without Content-Type fails only its own item, and a bodyless write runs.
"""

from urllib.parse import parse_qsl, unquote, urlsplit

from . import core

MAX_REQUESTS = 20
BODY_METHODS = frozenset(("POST", "PATCH", "PUT"))


def _bad(message):
    return core.GraphHTTPError(400, "BadRequest", message)


def _validate(body):
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        raise _bad("Invalid batch payload format.")
    items = body["requests"]
    if not items:
        raise _bad("Invalid batch payload format. The requests array must not be empty.")
    if len(items) > MAX_REQUESTS:
        raise _bad("Invalid batch payload format. The number of requests (%d) exceeds the limit of %d."
                   % (len(items), MAX_REQUESTS))
    seen = set()
    for item in items:
        if not isinstance(item, dict):
            raise _bad("Invalid batch payload format.")
        for name in ("id", "method", "url"):
            if not isinstance(item.get(name), str) or not item[name]:
                raise _bad("Invalid batch payload format. Request is missing required property '%s'." % name)
        key = item["id"].lower()
        if key in seen:
            raise _bad("Batch request with id '%s' is duplicated. Request ids must be unique within a batch." % item["id"])
        seen.add(key)
        depends = item.get("dependsOn", [])
        if not isinstance(depends, list) or any(not isinstance(d, str) for d in depends):
            raise _bad("Invalid batch payload format. dependsOn must be an array of request ids.")
    ids = {item["id"].lower() for item in items}
    for item in items:
        for dep in item.get("dependsOn", []):
            if dep.lower() not in ids:
                raise _bad("Request with id '%s' depends on request '%s', which is not in the batch." % (item["id"], dep))
    _any_order(items, None)  # a dependsOn cycle makes the batch malformed (json-batching.md: malformed is 400)
    return items


def _has_content_type(item):
    return any(k.lower() == "content-type" for k in (item.get("headers") or {}))


def _check_writes(items):
    """``batch_write_needs_body``: a write without a body or a Content-Type fails the whole batch (module docstring)."""
    for item in items:
        if item["method"].upper() not in BODY_METHODS:
            continue
        if item.get("body") is None:
            raise _bad("Write request id : %s does not contain Content-Type header or body." % item["id"])
        if not _has_content_type(item):
            raise _bad("Write request with id '%s' does not contain a Content-Type header." % item["id"])


def _inner_request(outer, item):
    url = item["url"]
    if url.lower().startswith(("http://", "https://")):
        raise _bad("Invalid batch payload format. The url '%s' must be relative." % url)
    url = "/" + url.lstrip("/")
    split = urlsplit(url)
    path = unquote(split.path)
    headers = {"Authorization": outer.header("Authorization", "")}
    for key, value in (item.get("headers") or {}).items():
        headers[key] = value
    body = item.get("body")
    return core.Request(method=item["method"].upper(), version=outer.version, path=path,
                        query=dict(parse_qsl(split.query, keep_blank_values=True)), headers=headers, body=body,
                        raw_path="/%s%s" % (outer.version, url), base_url=outer.base_url,
                        request_id=core.new_id())


def _failed_dependency(item, request_id):
    return {"id": item["id"], "status": 424, "headers": {"Content-Type": "application/json", "request-id": request_id},
            "body": {"error": {"code": "FailedDependency",
                               "message": "The request could not be processed because a request it depends on failed.",
                               "innerError": {"request-id": request_id}}}}


def _any_order(items, rng):
    """An order of ``items`` in which each comes after the items it depends on: random with ``rng``, else the first
    ready item each time; a 400 when ``dependsOn`` forms a cycle."""
    done, order, left = set(), [], list(items)
    while left:
        ready = [item for item in left if all(d.lower() in done for d in item.get("dependsOn", []))]
        if not ready:
            raise _bad("The dependsOn references of the batch form a cycle.")
        chosen = rng.choice(ready) if rng else ready[0]
        left.remove(chosen)
        done.add(chosen["id"].lower())
        order.append(chosen)
    return order


def handle(app, req):
    items = _validate(req.body)
    settings = app.tenant.settings
    if settings.get("batch_write_needs_body"):
        _check_writes(items)
    if settings.get("batch_any_order"):
        items = _any_order(items, app.batch_rng)
    statuses = {}
    responses = []
    for item in items:
        failed_dep = any(statuses.get(d.lower(), 200) >= 400 for d in item.get("dependsOn", []))
        if failed_dep:
            request_id = core.new_id()
            answer = _failed_dependency(item, request_id)
            app.log.append({"ts": app.tenant.clock.iso(), "method": item["method"].upper(),
                            "path": "/%s/%s" % (req.version, item["url"].lstrip("/")), "status": 424,
                            "request_body": item.get("body"), "response_body": answer["body"],
                            "request_id": request_id, "batch_request_id": req.request_id})
        elif item.get("body") is not None and not _has_content_type(item):
            request_id = core.new_id()
            answer = {"id": item["id"], "status": 400, "headers": {"Content-Type": "application/json", "request-id": request_id},
                      "body": {"error": {"code": "BadRequest", "message": "Content-Type header is required when a body is present.",
                                         "innerError": {"request-id": request_id}}}}
        else:
            inner = _inner_request(req, item)
            response, _dummy = app.dispatch(inner, batch_request_id=req.request_id)
            headers = {k: v for k, v in response.headers.items() if k.lower() not in ("client-request-id",)}
            if response.body is not None:
                headers.setdefault("Content-Type", "application/json" if not isinstance(response.body, str) else "text/plain")
            answer = {"id": item["id"], "status": response.status, "headers": headers}
            if response.body is not None:
                answer["body"] = response.body
        statuses[item["id"].lower()] = answer["status"]
        responses.append(answer)
    if settings.get("batch_any_order"):
        app.batch_rng.shuffle(responses)
    return core.Response(200, {"responses": responses})

"""Entra directory objects: ``users``, ``groups`` (+ ``members``) and ``devices``, in beta and v1.0.

Sources (microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0 unless said otherwise):

* api/group-post-groups.md - POST /groups: ``displayName`` (max 256), ``mailEnabled``, ``mailNickname``
  (max 64 characters, ASCII 0-127 except ``@ () \\ [] " ; : . <> ,`` and space) and ``securityEnabled``
  are required; 201 with the group's default properties; at most 20 ``members@odata.bind`` /
  ``owners@odata.bind``; a dynamic group cannot be ``isAssignableToRole``. Mail-enabled security groups
  cannot be created through the API (resources/groups-overview.md). Invalid values get 400
  ``Request_BadRequest`` (message as Graph words it in public reports, e.g. microsoft-graph-docs
  issue #1427: "One or more property values specified are invalid.").
* resources/group.md - ``membershipRuleProcessingState`` is ``On`` or ``Paused`` (accepted in any case,
  the docs' own example sends ``on``); ``displayName`` has no uniqueness rule, so duplicates are allowed.
* api/group-get.md, group-list.md, group-update.md (PATCH -> 204), group-delete.md (204).
* api/group-list-members.md (directoryObject collection with ``@odata.type`` per item),
  group-post-members.md (POST ``members/$ref`` with ``@odata.id`` -> 204; an existing member ->
  400 "One or more added object references already exist for the following modified properties:
  'members'."), group-delete-members.md (DELETE ``members/{id}/$ref`` -> 204).
* api/user-list.md, user-get.md (``/users/{id | userPrincipalName}``), api/device-list.md,
  device-get.md (also ``/devices(deviceId='{deviceId}')``).
* Permissions: the tables on the same pages (least to most privileged).

Dynamic groups: members are evaluated by rules.py against ``tenant.set('devices')`` /
``tenant.set('users')`` while processing is ``On``; ``Paused`` freezes the members as last evaluated.
Members of a dynamic group cannot be added or removed by hand (groups-overview.md: membership is
managed by the rule); the emulator answers that with 400 ``Request_BadRequest`` (exact wording not
documented).

Processing takes time (settings in service seconds, scaled; both 0 in the best case, where rules are evaluated on
every read). Entra processes dynamic groups asynchronously: "Changes to membership typically process within a few
hours ... Processing can take more than 24 hours" (MicrosoftDocs/entra-docs docs/identity/users/
manage-dynamic-group.md); small directories see changes "in less than a few minutes" (MicrosoftDocs/azure-docs
groups-troubleshooting.md). The beta resource membershipRuleProcessingStatus (api-reference/beta/resources/
membershipruleprocessingstatus.md) names the states: ``NotStarted`` "Group has been created or updated, and awaiting
processing", ``Running``, ``Succeeded`` "Processing has completed. Incremental object changes are processed
perpetually", ``Failed``. The emulator's model:

* creating a dynamic group, changing its rule or its groupTypes, or turning processing back ``On`` starts a
  processing run of ``membership_processing_delay``: ``NotStarted`` for its first half, ``Running`` for the second
  (the split is the emulator's choice), then ``Succeeded``. Until it ends the group shows the members it had before
  (none for a new group); at the end the rule is evaluated against every object as it is then;
* after that, a change to a device or user (created, group tag and thus ``physicalIds`` changed) reaches the group
  ``membership_update_delay`` after it happened; until then the group sees the object as it was (a new object:
  not at all). Objects planted through the control API count as existing before any group (no delay). Objects
  deleted leave at once (a deleted directory object cannot be a member);
* ``membershipRuleProcessingStatus`` (beta only, returned only on ``$select``, null for groups that are not dynamic or
  whose processing is ``Paused``, as the beta group resource says) carries ``status``, ``lastMembershipUpdated``
  (the end of the last run, or of the last incremental change that altered the membership) and ``errorMessage``
  (null: rules are validated when written, so no run fails). ``$filter`` on it is not modelled.
"""

import copy
import re
import uuid

from . import odata, rules
from .core import GraphHTTPError, Response, created, no_content, public, route

READ_GROUP = ("GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Group.ReadWrite.All",
              "Directory.ReadWrite.All")
CREATE_GROUP = ("Group.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All")
WRITE_GROUP = ("Group.ReadWrite.All", "Directory.ReadWrite.All")
READ_MEMBERS = ("GroupMember.Read.All", "Group.Read.All", "User.Read.All", "Device.Read.All", "Directory.Read.All",
                "Group.ReadWrite.All", "Directory.ReadWrite.All")
WRITE_MEMBERS = ("GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All")
READ_USER = ("User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
READ_DEVICE = ("Device.Read.All", "Directory.Read.All", "Device.ReadWrite.All", "Directory.ReadWrite.All")

NICKNAME_FORBIDDEN = set('@()\\[]";:.<>, ')
GROUP_WRITABLE = {"displayName", "description", "mailEnabled", "mailNickname", "securityEnabled", "groupTypes",
                  "membershipRule", "membershipRuleProcessingState", "visibility", "isAssignableToRole",
                  "preferredDataLocation", "classification", "theme", "preferredLanguage"}
GROUP_READ_ONLY = {"id", "createdDateTime", "deletedDateTime", "expirationDateTime", "mail", "proxyAddresses",
                   "renewedDateTime", "securityIdentifier", "onPremisesDomainName", "onPremisesLastSyncDateTime",
                   "onPremisesNetBiosName", "onPremisesSamAccountName", "onPremisesSecurityIdentifier",
                   "onPremisesSyncEnabled", "onPremisesProvisioningErrors", "resourceBehaviorOptions",
                   "resourceProvisioningOptions"}
TYPE_NAMES = {"users": "#microsoft.graph.user", "groups": "#microsoft.graph.group", "devices": "#microsoft.graph.device"}


def _bad(message):
    return GraphHTTPError(400, "Request_BadRequest", message)


def _invalid(prop):
    return _bad("Invalid value specified for property '%s' of resource 'Group'." % prop)


def _not_found(object_id):
    return GraphHTTPError(404, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried "
                                                           "reference-property objects are not present." % object_id)


# --- helpers the Intune resources use --------------------------------------------------------------

def find_user(tenant, upn):
    """The user whose userPrincipalName is ``upn`` (case-insensitive), or ``None``."""
    low = str(upn).lower()
    for user in tenant.set("users").values():
        if str(user.get("userPrincipalName", "")).lower() == low:
            return user
    return None


def _seen(entity, processed_at, lag, now):
    """``entity`` as dynamic processing sees it now: the current object, or ``_before`` (None: not yet seen) while
    its last change is younger than ``lag`` and happened after the group's last processing run ended."""
    changed = entity.get("_changed_at")
    if changed is None or changed + lag <= now or (processed_at is not None and changed <= processed_at):
        return entity
    return entity.get("_before")


def _member_lookup(tenant):
    """``group id -> direct member ids``, for memberOf rules."""
    return lambda gid: (tenant.get("groups", gid) or {}).get("_members", [])


def _rule_members(tenant, group):
    now = tenant.clock.now()
    processed_at = group.get("_processed_at")
    if processed_at is not None and now < processed_at:
        return set(group.get("_members_meanwhile", []))
    ast, kind = rules.parse(group["membershipRule"])
    pool = tenant.set("devices" if kind == "device" else "users").values()
    lag = tenant.delay("membership_update_delay")
    out = set()
    for entity in pool:
        seen = _seen(entity, processed_at, lag, now)
        if seen is not None and rules.evaluate(ast, seen, _member_lookup(tenant)):
            out.add(entity["id"])
    return out


def _start_processing(tenant, group, meanwhile):
    """A processing run of the group's rule starts now; ``meanwhile``: the member ids shown until it ends."""
    now = tenant.clock.now()
    previous = group.get("_processed_at")
    if previous is not None and previous <= now:  # what lastMembershipUpdated shows until this run ends
        group["_last_run_end"] = tenant.clock.iso(previous)
    group["_processing_from"] = now
    group["_processed_at"] = now + tenant.delay("membership_processing_delay")
    group["_members_meanwhile"] = sorted(meanwhile)


def object_changed(tenant, entity, before, when=None):
    """A device or user was created (``before`` None) or changed (``before``: its public properties before the change)
    at ``when`` (default now); dynamic groups see it ``membership_update_delay`` later (the module docstring)."""
    lag = tenant.delay("membership_update_delay")
    if lag <= 0:
        return
    when = tenant.clock.now() if when is None else when
    changed = entity.get("_changed_at")
    if changed is None or changed + lag <= when:  # the previous change is processed: it is what groups saw so far
        entity["_before"] = before
    entity["_changed_at"] = when


def processing_status(tenant, group):
    """The group's ``membershipRuleProcessingStatus`` (beta resources/membershipruleprocessingstatus.md), or None."""
    if not is_dynamic(group) or group.get("membershipRuleProcessingState") != "On":
        return None
    now = tenant.clock.now()
    processed_at = group.get("_processed_at")
    if processed_at is not None and now < processed_at:
        started = group["_processing_from"]
        status = "NotStarted" if now < started + (processed_at - started) / 2.0 else "Running"
        return {"status": status, "lastMembershipUpdated": group.get("_last_run_end"), "errorMessage": None}
    if processed_at is None:
        return {"status": "Succeeded", "lastMembershipUpdated": group.get("createdDateTime"), "errorMessage": None}
    updated = processed_at
    lag = tenant.delay("membership_update_delay")
    ast, kind = rules.parse(group["membershipRule"])
    for entity in tenant.set("devices" if kind == "device" else "users").values():
        changed = entity.get("_changed_at")
        if changed is None or changed <= processed_at or changed + lag > now or changed + lag <= updated:
            continue
        before = entity.get("_before")
        members = _member_lookup(tenant)
        if (before is not None and rules.evaluate(ast, before, members)) != rules.evaluate(ast, entity, members):
            updated = changed + lag
    return {"status": "Succeeded", "lastMembershipUpdated": tenant.clock.iso(updated), "errorMessage": None}


def _with_processing_status(req, tenant, groups):
    """Beta answers with ``membershipRuleProcessingStatus`` when ``$select`` asks for it (it is returned only then)."""
    wanted = {name.strip() for name in str(req.query.get("$select") or "").split(",")}
    if req.version != "beta" or "membershipRuleProcessingStatus" not in wanted:
        return groups
    return [dict(group, membershipRuleProcessingStatus=processing_status(tenant, group)) for group in groups]


def is_dynamic(group):
    return "dynamicmembership" in [t.lower() for t in group.get("groupTypes") or []]


def member_ids(tenant, group_id):
    """Direct member ids of a group; a dynamic group's rule is evaluated now (frozen while ``Paused``)."""
    group = tenant.get("groups", group_id)
    if group is None:
        return set()
    if is_dynamic(group) and group.get("membershipRuleProcessingState") == "On":
        return _rule_members(tenant, group)
    return set(group.get("_members", []))


def group_ids_of(tenant, object_id):
    """Ids of the groups that ``object_id`` is a direct member of (dynamic groups included)."""
    return {gid for gid in list(tenant.set("groups")) if object_id in member_ids(tenant, gid)}


def find_object(tenant, object_id):
    """``(set name, entity)`` of a directory object, or ``(None, None)``."""
    for name in ("users", "groups", "devices"):
        entity = tenant.get(name, object_id)
        if entity is not None:
            return name, entity
    return None, None


# --- users -----------------------------------------------------------------------------------------

def _user(tenant, key):
    user = tenant.get("users", key) or find_user(tenant, key)
    if user is None:
        raise _not_found(key)
    return user


@route("GET", r"/users/\$count", permissions=READ_USER, workload="users")
def count_users(req, tenant):
    return _count(req, tenant, "users")


@route("GET", "/users", permissions=READ_USER)
def list_users(req, tenant):
    return odata.list_response(req, tenant, tenant.listed("users"), directory=True, context="users")


@route("GET", "/users/{key}", permissions=READ_USER)
def get_user(req, tenant, key):
    return odata.entity_response(req, _user(tenant, _key(key)), context="users")


def _key(raw):
    """``abc`` or ``('abc')`` (the key syntax the SDKs also use)."""
    found = re.fullmatch(r"\('(.*)'\)", raw)
    return found.group(1).replace("''", "'") if found else raw


def _count(req, tenant, set_name):
    if not odata.eventual(req):
        raise _bad("$count is not currently supported.")
    items = tenant.listed(set_name)
    if "$filter" in req.query:
        try:
            ast, _dummy = odata.parse_filter(req.query["$filter"])
        except odata.FilterError as exc:
            raise _bad("Invalid filter clause: %s" % exc)
        items = [i for i in items if odata.matches(ast, public(i))]
    return Response(200, str(len(items)))


# --- devices ---------------------------------------------------------------------------------------

@route("GET", r"/devices/\$count", permissions=READ_DEVICE, workload="devices")
def count_devices(req, tenant):
    return _count(req, tenant, "devices")


@route("GET", "/devices", permissions=READ_DEVICE)
def list_devices(req, tenant):
    return odata.list_response(req, tenant, tenant.listed("devices"), directory=True, context="devices")


@route("GET", r"/devices\(deviceId='{device_id}'\)", permissions=READ_DEVICE, workload="devices")
def get_device_by_device_id(req, tenant, device_id):
    for device in tenant.set("devices").values():
        if str(device.get("deviceId", "")).lower() == device_id.lower():
            return odata.entity_response(req, device, context="devices")
    raise _not_found(device_id)


@route("GET", "/devices/{device_id}", permissions=READ_DEVICE)
def get_device(req, tenant, device_id):
    device = tenant.get("devices", device_id)
    if device is None:
        raise _not_found(device_id)
    return odata.entity_response(req, device, context="devices")


# --- groups ----------------------------------------------------------------------------------------

def _security_identifier(object_id):
    raw = uuid.UUID(object_id).bytes_le
    parts = [int.from_bytes(raw[i:i + 4], "little") for i in range(0, 16, 4)]
    return "S-1-12-1-" + "-".join(str(p) for p in parts)


def _validate_nickname(value):
    if not isinstance(value, str) or not value or len(value) > 64:
        raise _invalid("mailNickname")
    if any(ord(c) > 127 or c in NICKNAME_FORBIDDEN for c in value):
        raise _invalid("mailNickname")


def _check_group_body(body, creating, current=None):
    for key in body:
        if key in ("members@odata.bind", "owners@odata.bind") and creating:
            continue
        if key.startswith("@odata."):
            continue
        if key in GROUP_READ_ONLY:
            raise _bad("Property '%s' is read-only and cannot be set." % key)
        if key not in GROUP_WRITABLE:
            raise _bad("Invalid property '%s'." % key)
        if key == "isAssignableToRole" and not creating:
            raise _bad("Property 'isAssignableToRole' can only be set when the group is created.")
    merged = dict(current or {})
    merged.update(body)
    if creating:
        for required in ("displayName", "mailEnabled", "mailNickname", "securityEnabled"):
            if required not in body or body[required] is None:
                raise _invalid(required)
    name = merged.get("displayName")
    if not isinstance(name, str) or not name.strip() or len(name) > 256:
        raise _invalid("displayName")
    for flag in ("mailEnabled", "securityEnabled"):
        if not isinstance(merged.get(flag), bool):
            raise _invalid(flag)
    if "mailNickname" in body:
        _validate_nickname(body["mailNickname"])
    types = merged.get("groupTypes") or []
    if not isinstance(types, list) or any(not isinstance(t, str) or t.lower() not in ("unified", "dynamicmembership")
                                          for t in types):
        raise _invalid("groupTypes")
    unified = "unified" in [t.lower() for t in types]
    if merged["mailEnabled"] and not unified:
        raise _bad("The service does not currently support writes of mail-enabled groups. Please ensure that the "
                   "mail-enablement property is unset or is set to false.")
    if not merged["mailEnabled"] and unified:
        raise _invalid("mailEnabled")
    dynamic = "dynamicmembership" in [t.lower() for t in types]
    state = merged.get("membershipRuleProcessingState")
    if state is not None and (not isinstance(state, str) or state.lower() not in ("on", "paused")):
        raise _invalid("membershipRuleProcessingState")
    rule = merged.get("membershipRule")
    if dynamic:
        try:
            rules.parse(rule)
        except rules.RuleError as exc:
            raise GraphHTTPError(400, exc.code, exc.message) from None
        if merged.get("isAssignableToRole"):
            raise _bad("A group with dynamic membership cannot be assignable to roles.")
    elif rule or state:
        raise _bad("Property 'membershipRule' can only be set on a group whose groupTypes contain 'DynamicMembership'.")
    return dynamic


def _normalise(group):
    types = group.get("groupTypes") or []
    group["groupTypes"] = [{"unified": "Unified", "dynamicmembership": "DynamicMembership"}[t.lower()] for t in types]
    if is_dynamic(group):
        state = (group.get("membershipRuleProcessingState") or "On").lower()
        group["membershipRuleProcessingState"] = "On" if state == "on" else "Paused"
    else:
        group["membershipRule"] = None
        group["membershipRuleProcessingState"] = None


def _bind_ids(tenant, urls):
    if not isinstance(urls, list):
        raise _bad("Invalid value for members@odata.bind.")
    ids = []
    for url in urls:
        object_id = str(url).rstrip("/").rsplit("/", 1)[-1]
        object_id = _key(object_id.split("(", 1)[1]) if "(" in object_id else object_id
        if find_object(tenant, object_id)[1] is None:
            raise _not_found(object_id)
        ids.append(object_id)
    return ids


@route("GET", r"/groups/\$count", permissions=READ_GROUP, workload="groups")
def count_groups(req, tenant):
    return _count(req, tenant, "groups")


@route("GET", "/groups", permissions=READ_GROUP)
def list_groups(req, tenant):
    return odata.list_response(req, tenant, _with_processing_status(req, tenant, tenant.listed("groups")),
                               directory=True, context="groups")


@route("POST", "/groups", permissions=CREATE_GROUP)
def create_group(req, tenant):
    body = req.json_body()
    _check_group_body(body, creating=True)
    members = _bind_ids(tenant, body.get("members@odata.bind", []))
    owners = _bind_ids(tenant, body.get("owners@odata.bind", []))
    if len(members) + len(owners) > 20:
        raise _bad("A maximum of 20 members and owners can be added when the group is created.")
    group_id = str(uuid.uuid4())
    now = tenant.clock.iso()
    group = {
        "id": group_id, "deletedDateTime": None, "classification": body.get("classification"),
        "createdDateTime": now, "description": body.get("description"),
        "displayName": body["displayName"], "expirationDateTime": None, "groupTypes": list(body.get("groupTypes") or []),
        "isAssignableToRole": body.get("isAssignableToRole"), "mail": None, "mailEnabled": body["mailEnabled"],
        "mailNickname": body["mailNickname"], "membershipRule": body.get("membershipRule"),
        "membershipRuleProcessingState": body.get("membershipRuleProcessingState"),
        "onPremisesDomainName": None, "onPremisesLastSyncDateTime": None, "onPremisesNetBiosName": None,
        "onPremisesSamAccountName": None, "onPremisesSecurityIdentifier": None, "onPremisesSyncEnabled": None,
        "preferredDataLocation": body.get("preferredDataLocation"), "preferredLanguage": body.get("preferredLanguage"),
        "proxyAddresses": [], "renewedDateTime": now, "resourceBehaviorOptions": [], "resourceProvisioningOptions": [],
        "securityEnabled": body["securityEnabled"], "securityIdentifier": _security_identifier(group_id),
        "theme": body.get("theme"), "visibility": body.get("visibility"), "onPremisesProvisioningErrors": [],
        "_members": members, "_owners": owners,
    }
    _normalise(group)
    if is_dynamic(group) and group["membershipRuleProcessingState"] == "On":
        _start_processing(tenant, group, ())
    group["_intune_known_at"] = tenant.clock.now() + tenant.delay("group_assignment_delay")  # enrollment.py docstring
    tenant.add("groups", group)
    return created(dict({"@odata.context": odata.context_url(req, "groups/$entity")}, **public(group)))


def _group(tenant, group_id):
    group = tenant.get("groups", group_id)
    if group is None:
        raise _not_found(group_id)
    return group


@route("GET", "/groups/{group_id}", permissions=READ_GROUP)
def get_group(req, tenant, group_id):
    return odata.entity_response(req, _with_processing_status(req, tenant, [_group(tenant, group_id)])[0], context="groups")


@route("PATCH", "/groups/{group_id}", permissions=WRITE_GROUP)
def update_group(req, tenant, group_id):
    group = _group(tenant, group_id)
    body = req.json_body()
    _check_group_body(body, creating=False, current=public(group))
    was_dynamic_on = is_dynamic(group) and group.get("membershipRuleProcessingState") == "On"
    rule_before = (is_dynamic(group), group.get("membershipRule"), group.get("membershipRuleProcessingState"))
    frozen = member_ids(tenant, group_id)
    group.update(copy.deepcopy(body))
    _normalise(group)
    if was_dynamic_on and group.get("membershipRuleProcessingState") == "Paused":
        group["_members"] = sorted(frozen)
    rule_after = (is_dynamic(group), group.get("membershipRule"), group.get("membershipRuleProcessingState"))
    if rule_after != rule_before and rule_after[0] and rule_after[2] == "On":
        _start_processing(tenant, group, frozen)
    return no_content()


@route("DELETE", "/groups/{group_id}", permissions=WRITE_GROUP)
def delete_group(req, tenant, group_id):
    _group(tenant, group_id)
    tenant.remove("groups", group_id)
    for other in tenant.set("groups").values():
        if group_id in other.get("_members", []):
            other["_members"].remove(group_id)
    return no_content()


# --- members ---------------------------------------------------------------------------------------

def _member_entities(tenant, group_id):
    out = []
    for object_id in sorted(member_ids(tenant, group_id)):
        name, entity = find_object(tenant, object_id)
        if entity is not None:
            out.append(dict({"@odata.type": TYPE_NAMES[name]}, **public(entity)))
    return out


@route("GET", "/groups/{group_id}/members", permissions=READ_MEMBERS, workload="groups")
def list_members(req, tenant, group_id):
    _group(tenant, group_id)
    return odata.list_response(req, tenant, _member_entities(tenant, group_id), directory=True, context="directoryObjects")


@route("GET", "/groups/{group_id}/members/microsoft.graph.{cast}", permissions=READ_MEMBERS, workload="groups")
def list_members_cast(req, tenant, group_id, cast):
    _group(tenant, group_id)
    wanted = "#microsoft.graph." + cast
    items = [m for m in _member_entities(tenant, group_id) if m["@odata.type"] == wanted]
    return odata.list_response(req, tenant, items, directory=True, context="%ss" % cast)


@route("POST", r"/groups/{group_id}/members/\$ref", permissions=WRITE_MEMBERS, workload="groups")
def add_member(req, tenant, group_id):
    group = _group(tenant, group_id)
    body = req.json_body()
    ref = body.get("@odata.id")
    if not isinstance(ref, str) or not ref:
        raise _bad("Invalid request body: '@odata.id' is required.")
    object_id = _bind_ids(tenant, [ref])[0]
    if is_dynamic(group):
        raise _bad("Members of a group with dynamic membership cannot be added or removed manually.")
    if object_id in group.setdefault("_members", []):
        raise _bad("One or more added object references already exist for the following modified properties: 'members'.")
    group["_members"].append(object_id)
    return no_content()


@route("DELETE", r"/groups/{group_id}/members/{member_id}/\$ref", permissions=WRITE_MEMBERS, workload="groups")
def remove_member(req, tenant, group_id, member_id):
    group = _group(tenant, group_id)
    if is_dynamic(group):
        raise _bad("Members of a group with dynamic membership cannot be added or removed manually.")
    if member_id not in group.get("_members", []):
        raise _not_found(member_id)
    group["_members"].remove(member_id)
    return no_content()

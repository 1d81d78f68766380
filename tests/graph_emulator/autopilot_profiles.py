"""Windows Autopilot deployment profiles (beta only) and their group assignments.

Sources (microsoftgraph/microsoft-graph-docs-contrib api-reference/beta, the pages
intune-enrollment-*windowsautopilotdeploymentprofile*.md, unless named otherwise):

* Types ``azureADWindowsAutopilotDeploymentProfile`` and ``activeDirectoryWindowsAutopilotDeploymentProfile``
  (api-reference/beta/resources/intune-enrollment-*windowsautopilotdeploymentprofile.md). The base type is abstract:
  a POST without one of the two derived ``@odata.type`` values is a 400. No v1.0 pages exist, so beta only.
* Deprecated and current property names (2024 resource page marks ``language``, ``outOfBoxExperienceSettings``,
  ``extractHardwareHash``, ``enableWhiteGlove`` read-only + deprecated; the create/update examples still write them):
  both are accepted on write and both are returned on read, kept in sync. Stored once under the current name.
  When one body sends both spellings, the current name wins. Field mapping of the OOBE block:
  hidePrivacySettings<->privacySettingsHidden, hideEULA<->eulaHidden, skipKeyboardSelectionPage<->
  keyboardSelectionPageSkipped, hideEscapeLink<->escapeLinkHidden, userType and deviceUsageType unchanged.
  A PATCH of an OOBE block merges into the stored block (the fields it omits keep their values).
* Defaults (resource pages): locale/language ``os-default``; hash extraction, pre-provisioning false; deviceType
  ``windowsPc``; OOBE: privacy/EULA/escape link shown (false), userType ``administrator``, deviceUsageType
  ``singleUser``, keyboard page not skipped.
* ``userType`` on a self-deploying (``shared``) profile: a profile sent one keeps it and returns it (the real GET
  capture in deploymenttheory/terraform-provider-microsoft365
  internal/services/resources/device_management/graph_beta/policy_set/reqs/reqs.md holds a shared profile with
  ``userType`` standard, created by that provider's acceptance test, which sends it). A shared profile created
  without one has none: the emulator does not apply the documented default (administrator,
  intune-enrollment-outofboxexperiencesetting.md) to a profile that has no user to make one. UNCLEAR: what the
  service returns then is on record nowhere; KelvinTegelaar/CIPP-API pull request 1923 stopped sending and comparing
  ``userType`` on shared profiles ("The Intune API rejects it for self-deploying (shared) mode"), which the capture
  above contradicts for ``standard``, so the emulator refuses neither.
* ``hybridAzureADJoinSkipConnectivityCheck`` (a property of the hybrid join type only, per the resource pages) is
  accepted on an Entra join profile too and ignored there: the portal sends it when it creates either kind (the
  provider above, construct.go: "only set during create as per graph xray", i.e. the portal's own calls, sent for
  both join types), tools send it (jorgeasaurus/IntuneHydrationKit Templates/Enrollment/*.json, andrew-s-taylor/public
  "Powershell Scripts/Intune/BuildIntuneEnvironment.ps1"), and the real GET of an Entra join profile does not carry it
  (the capture above). Accepted on PATCH as well (the emulator's choice: nothing reports a refusal).
* displayName at most 200 characters, description at most 1500 (property table). displayName is required (the portal
  requires a name; UNCLEAR in Graph). At most 350 profiles per tenant (memdocs autopilot/profiles.md); the 351st
  POST is a 400.
* displayName characters (field reports, not documented): letters, digits, spaces and ``: " ? . @ $ & _ [ ] { } |``
  and backslash only; anything else, a hyphen in particular, is a bare 500 on POST and PATCH
  (KelvinTegelaar/CIPP-API Modules/CIPPCore/Public/Test-CIPPAutopilotProfileName.ps1: "rejected by the service with a
  generic 500 that carries no reason"; Microsoft365DSC issue 3892: "due to an hyphen in the displayname").
* ``deviceNameTemplate`` (memdocs autopilot/profiles.md and the user-driven tutorial): letters, digits, hyphens and
  the macros ``%SERIAL%`` and ``%RAND:x%``; any other character or macro is a 400. Whether the service checks the
  15-character limit at POST time is UNCLEAR, so the length is not checked here.
* Query options (property table): ``$filter`` and ``$search`` are not supported -> 400; ``$select``, ``$top``,
  ``$skip``; ``$orderby`` only on displayName/description (anything else -> 400); ``$expand=assignments``.
* PATCH answers 200 with the entity
  (api-reference/beta/api/intune-enrollment-azureadwindowsautopilotdeploymentprofile-update.md).
* DELETE while the profile still has group assignments is refused. The Graph status is undocumented; the portal says
  "The profile is assigned to groups. You must unassign all groups from this profile before you can delete it."
  (SupportArticles-docs cannot-delete-autopilot-deployment-profile.md). Chosen: 400 ``BadRequest`` with that text in
  Intune's JSON-in-message error shape.
* ``assignments``: POST 201, GET list, GET/DELETE by id (204). Ids as real tenants show them:
  ``{profileId}_{groupId}_0`` (Pacers31Colts18/Intune.Docs
  Docs/WindowsAutopilotDeploymentProfiles/Assignments/JoeLoveless_Autopilot_UserDriven.md, andrew-s-taylor/public
  IntuneConfig/baseline.json; the support article's older ``{profileId}_{groupId}`` lacks the suffix) and
  ``{profileId}_adadadad-808e-44e2-905a-0b7873a8a531_0`` for all devices (rknightion/graph2otel
  internal/collectors/intune/autopilot/autopilot_test.go), ``sourceId`` the profile's id (both). An exclusion takes
  the same shape (no export shows one: the emulator's choice). Clients must not parse them.
  Targets: groupAssignmentTarget, exclusionGroupAssignmentTarget (existing group), allDevicesAssignmentTarget.
  "All Devices" with exclusions is refused (memdocs profiles.md).
  Assignment filters are refused (400): Autopilot deployment profiles are not among the workloads that support
  filters (memdocs intune/fundamentals/filters-supported-workloads.md; the status is an emulator choice).
  A second assignment for the same group: 409 ``Conflict`` (undocumented; chosen so that a client that re-creates
  an existing assignment sees it clearly).
* ``assign`` action: ``{"deviceIds": [...]}`` (Autopilot device identity ids), 204; the profile then applies to those
  devices directly. ``assignedDevices``: the Autopilot devices whose effective profile is this one (see
  autopilot_devices.py for how the effective profile and the assignment status are computed).
"""

import copy
import re

from .core import GraphHTTPError, bad_request, new_id, no_content, not_found, odata_type_name, route
from .enrollment import (READ, WRITE, check_props, check_target_set, expand_assignments, full_type, intune_error,
                         normalize_target, render_target, target_id, unknown_property)
from .odata import entity_response, list_response

PROFILES = "windowsAutopilotDeploymentProfiles"
BASE = "/deviceManagement/" + PROFILES
BETA = ("beta",)
MAX_PROFILES = 350
AAD = "azureADWindowsAutopilotDeploymentProfile"
AD = "activeDirectoryWindowsAutopilotDeploymentProfile"
PROFILE_TYPES = (AAD, AD)

USER_TYPES = ("administrator", "standard", "unknownFutureValue")
USAGE_TYPES = ("singleUser", "shared", "unknownFutureValue")
DEVICE_TYPES = ("windowsPc", "holoLens", "surfaceHub2", "surfaceHub2S", "virtualMachine", "unknownFutureValue")

OOBE_CURRENT = {"privacySettingsHidden": "bool", "eulaHidden": "bool", "userType": ("enum", USER_TYPES),
                "deviceUsageType": ("enum", USAGE_TYPES), "keyboardSelectionPageSkipped": "bool",
                "escapeLinkHidden": "bool"}
OOBE_DEPRECATED = {"hidePrivacySettings": "bool", "hideEULA": "bool", "userType": ("enum", USER_TYPES),
                   "deviceUsageType": ("enum", USAGE_TYPES), "skipKeyboardSelectionPage": "bool",
                   "hideEscapeLink": "bool"}
# deprecated OOBE field -> current OOBE field
OOBE_MAP = {"hidePrivacySettings": "privacySettingsHidden", "hideEULA": "eulaHidden", "userType": "userType",
            "deviceUsageType": "deviceUsageType", "skipKeyboardSelectionPage": "keyboardSelectionPageSkipped",
            "hideEscapeLink": "escapeLinkHidden"}
ESP_SCREEN = {"hideInstallationProgress": "bool", "allowDeviceUseBeforeProfileAndAppInstallComplete": "bool",
              "blockDeviceSetupRetryByUser": "bool", "allowLogCollectionOnInstallFailure": "bool",
              "customErrorMessage": "str", "installProgressTimeoutInMinutes": "int",
              "allowDeviceUseOnInstallFailure": "bool"}
# deprecated top-level property -> current property
DEPRECATED = {"language": "locale", "extractHardwareHash": "hardwareHashExtractionEnabled",
              "enableWhiteGlove": "preprovisioningAllowed"}

TABLE = {
    "id": "str", "displayName": "str", "description": "str", "language": "str", "locale": "str",
    "createdDateTime": "date", "lastModifiedDateTime": "date",
    "outOfBoxExperienceSettings": ("obj", OOBE_DEPRECATED, "outOfBoxExperienceSettings"),
    "outOfBoxExperienceSetting": ("obj", OOBE_CURRENT, "outOfBoxExperienceSetting"),
    "enrollmentStatusScreenSettings": ("obj", ESP_SCREEN, "windowsEnrollmentStatusScreenSettings"),
    "extractHardwareHash": "bool", "hardwareHashExtractionEnabled": "bool", "deviceNameTemplate": "str",
    "deviceType": ("enum", DEVICE_TYPES), "enableWhiteGlove": "bool", "preprovisioningAllowed": "bool",
    "roleScopeTagIds": "strlist", "managementServiceAppId": "str",
}
TABLE["hybridAzureADJoinSkipConnectivityCheck"] = "bool"   # accepted on both types, stored on hybrid ones only
READ_ONLY = ("id", "createdDateTime", "lastModifiedDateTime")
HYBRID_ONLY = ("hybridAzureADJoinSkipConnectivityCheck",)
OOBE_DEFAULTS = {"privacySettingsHidden": False, "eulaHidden": False, "userType": "administrator",
                 "deviceUsageType": "singleUser", "keyboardSelectionPageSkipped": False, "escapeLinkHidden": False}
DISPLAY_NAME = re.compile(r'^[\w :"?.@$&\[\]{}|\\]*$', re.UNICODE)
NAME_TEMPLATE = re.compile(r"^(?:[A-Za-z0-9-]|%SERIAL%|%RAND:[1-9][0-9]?%)*$")
ASSIGN_TARGETS = ("groupAssignmentTarget", "exclusionGroupAssignmentTarget", "allDevicesAssignmentTarget")


def profile(tenant, profile_id):
    entity = tenant.get(PROFILES, profile_id)
    if entity is None:
        raise not_found(PROFILES, profile_id)
    return entity


def render_profile(entity):
    """Both property generations, derived from the stored current names."""
    out = {k: copy.deepcopy(v) for k, v in entity.items() if not k.startswith("_")}
    for old, new in DEPRECATED.items():
        out[old] = out.get(new)
    oobe = out.get("outOfBoxExperienceSetting")
    out["outOfBoxExperienceSettings"] = None if oobe is None else {
        "@odata.type": "microsoft.graph.outOfBoxExperienceSettings",
        **{old: oobe.get(new) for old, new in OOBE_MAP.items()}}
    return out


def _apply(entity, body):
    """Write ``body`` into ``entity`` under the current names (deprecated first, so current names win); a hybrid-only
    property sent for an Entra join profile is dropped (module docstring)."""
    hybrid = odata_type_name(entity["@odata.type"]) == AD
    for old, new in DEPRECATED.items():
        if old in body:
            entity[new] = body[old]
    oobe_old = body.get("outOfBoxExperienceSettings")
    oobe_new = body.get("outOfBoxExperienceSetting")
    if "outOfBoxExperienceSettings" in body or "outOfBoxExperienceSetting" in body:
        merged = dict(entity.get("outOfBoxExperienceSetting") or OOBE_DEFAULTS)
        merged["@odata.type"] = "microsoft.graph.outOfBoxExperienceSetting"
        for old, new in OOBE_MAP.items():
            if oobe_old and old in oobe_old:
                merged[new] = oobe_old[old]
        for key, value in (oobe_new or {}).items():
            if not key.startswith("@"):
                merged[key] = value
        entity["outOfBoxExperienceSetting"] = merged
    for key, value in body.items():
        if key.startswith("@") or key in READ_ONLY or key in DEPRECATED or (key in HYBRID_ONLY and not hybrid):
            continue
        if key in ("outOfBoxExperienceSettings", "outOfBoxExperienceSetting"):
            continue
        if key == "enrollmentStatusScreenSettings" and isinstance(value, dict):
            value = dict(value, **{"@odata.type": "microsoft.graph.windowsEnrollmentStatusScreenSettings"})
        entity[key] = copy.deepcopy(value)


def _sends_user_type(body):
    return any((body.get(block) or {}).get("userType") is not None
               for block in ("outOfBoxExperienceSetting", "outOfBoxExperienceSettings"))


def _validate(req, tenant, body, type_name):
    check_props(body, TABLE, type_name)
    name = body.get("displayName")
    if name is not None and len(name) > 200:
        raise intune_error(req, "displayName exceeds the maximum length of 200 characters.")
    if isinstance(name, str) and not DISPLAY_NAME.match(name):
        raise intune_error(req, "An error has occurred", status=500, code="InternalServerError")
    description = body.get("description")
    if description is not None and len(description) > 1500:
        raise intune_error(req, "description exceeds the maximum length of 1500 characters.")
    template = body.get("deviceNameTemplate")
    if template and not NAME_TEMPLATE.match(template):
        raise intune_error(req, "Invalid device name template '%s': use letters, digits, hyphens, %%SERIAL%% and "
                                "%%RAND:x%%." % template)
    tags = body.get("roleScopeTagIds")
    if tags:
        missing = [t for t in tags if tenant.get("roleScopeTags", t) is None]
        if missing:
            raise intune_error(req, "Role scope tag(s) not found: %s" % ", ".join(missing))


def _changed(tenant):
    from . import autopilot_devices  # the devices module renders profiles, so import late
    autopilot_devices.refresh(tenant, since=tenant.clock.now())


def _check_query(req):
    if "$filter" in req.query or "$search" in req.query:
        raise intune_error(req, "Query option '%s' is not supported on windowsAutopilotDeploymentProfiles."
                           % ("$filter" if "$filter" in req.query else "$search"))
    orderby = req.query.get("$orderby")
    if orderby:
        for part in orderby.split(","):
            field = part.strip().split(" ")[0]
            if field not in ("displayName", "description"):
                raise intune_error(req, "$orderby is supported only on displayName and description.")


@route("GET", BASE, versions=BETA, permissions=READ)
def list_profiles(req, tenant):
    _check_query(req)
    req, expand = expand_assignments(req)
    items = sorted(tenant.listed(PROFILES), key=lambda e: e.get("_seq", 0))
    return list_response(req, tenant, [_with_assignments(req, e, expand) for e in items], filter_ops=set(),
                         orderby={"displayName", "description"})


def _with_assignments(req, entity, expand):
    out = render_profile(entity)
    if expand:
        out["assignments"] = [render_assignment(req, a) for a in entity.get("_assignments", {}).values()]
    return out


@route("GET", BASE + "/{profile_id}", versions=BETA, permissions=READ)
def get_profile(req, tenant, profile_id):
    req, expand = expand_assignments(req)
    return entity_response(req, _with_assignments(req, profile(tenant, profile_id), expand))


@route("POST", BASE, versions=BETA, permissions=WRITE)
def create_profile(req, tenant):
    body = req.json_body()
    type_name = odata_type_name(body.get("@odata.type"))
    if type_name not in PROFILE_TYPES:
        raise bad_request("The request body needs '@odata.type' #microsoft.graph.%s or #microsoft.graph.%s; "
                          "'%s' cannot be created." % (AAD, AD, body.get("@odata.type")))
    _validate(req, tenant, body, type_name)
    if not body.get("displayName"):
        raise intune_error(req, "displayName is required.")
    if len(tenant.set(PROFILES)) >= MAX_PROFILES:
        raise intune_error(req, "The maximum number of %d Autopilot deployment profiles has been reached."
                           % MAX_PROFILES)
    now = tenant.clock.iso()
    entity = {
        "@odata.type": full_type(type_name), "id": new_id(), "displayName": None, "description": "",
        "locale": "os-default", "createdDateTime": now, "lastModifiedDateTime": now,
        "outOfBoxExperienceSetting": None,
        "enrollmentStatusScreenSettings": None, "hardwareHashExtractionEnabled": False, "deviceNameTemplate": "",
        "deviceType": "windowsPc", "preprovisioningAllowed": False, "roleScopeTagIds": ["0"],
        "managementServiceAppId": None,
    }
    if type_name == AD:
        entity["hybridAzureADJoinSkipConnectivityCheck"] = False
    _apply(entity, body)
    oobe = entity["outOfBoxExperienceSetting"] or dict(OOBE_DEFAULTS, **{"@odata.type": "microsoft.graph.outOfBoxExperienceSetting"})
    if oobe.get("deviceUsageType") == "shared" and not _sends_user_type(body):
        oobe["userType"] = None   # no default user type on a profile without a user (module docstring)
    entity["outOfBoxExperienceSetting"] = oobe
    if not entity.get("roleScopeTagIds"):
        entity["roleScopeTagIds"] = ["0"]
    entity["_assignments"] = {}
    entity["_device_ids"] = []
    entity["_seq"] = _next_seq(tenant)
    entity["_created"] = tenant.clock.now()
    tenant.add(PROFILES, entity, replicate=False)
    return entity_response(req, render_profile(entity), context=req.path.strip("/"), status=201)


def _next_seq(tenant):
    return max((e.get("_seq", 0) for e in tenant.set(PROFILES).values()), default=0) + 1


@route("PATCH", BASE + "/{profile_id}", versions=BETA, permissions=("DeviceManagementServiceConfig.ReadWrite.All",))
def update_profile(req, tenant, profile_id):
    entity = profile(tenant, profile_id)
    body = req.json_body()
    type_name = odata_type_name(entity["@odata.type"])
    sent = body.get("@odata.type")
    if sent is not None and odata_type_name(sent) != type_name:
        raise bad_request("The @odata.type '%s' does not match the type of the entity '%s'." % (sent, entity["@odata.type"]))
    _validate(req, tenant, body, type_name)
    if "displayName" in body and not body["displayName"]:
        raise intune_error(req, "displayName cannot be empty.")
    _apply(entity, body)
    entity["lastModifiedDateTime"] = tenant.clock.iso()
    return entity_response(req, render_profile(entity))


@route("DELETE", BASE + "/{profile_id}", versions=BETA, permissions=("DeviceManagementServiceConfig.ReadWrite.All",))
def delete_profile(req, tenant, profile_id):
    entity = profile(tenant, profile_id)
    if entity.get("_assignments"):
        raise intune_error(req, "The profile is assigned to groups. You must unassign all groups from this profile "
                                "before you can delete it.")
    tenant.remove(PROFILES, profile_id)
    if entity.get("_device_ids"):
        _changed(tenant)
    return no_content()


# Assignments ---------------------------------------------------------------------------------------------------

def render_assignment(req, assignment):
    return {"@odata.type": full_type("windowsAutopilotDeploymentProfileAssignment"), "id": assignment["id"],
            "target": render_target(req, assignment["target"]), "source": assignment.get("source", "direct"),
            "sourceId": assignment.get("sourceId")}


def _assignment(entity, assignment_id):
    assignment = entity.get("_assignments", {}).get(assignment_id)
    if assignment is None:
        raise not_found("windowsAutopilotDeploymentProfileAssignments", assignment_id)
    return assignment


@route("GET", BASE + "/{profile_id}/assignments", versions=BETA, permissions=READ)
def list_profile_assignments(req, tenant, profile_id):
    entity = profile(tenant, profile_id)
    items = [render_assignment(req, a) for a in entity.get("_assignments", {}).values()]
    return list_response(req, tenant, items)


@route("GET", BASE + "/{profile_id}/assignments/{assignment_id}", versions=BETA, permissions=READ)
def get_profile_assignment(req, tenant, profile_id, assignment_id):
    entity = profile(tenant, profile_id)
    return entity_response(req, render_assignment(req, _assignment(entity, assignment_id)))


@route("POST", BASE + "/{profile_id}/assignments", versions=BETA, permissions=WRITE)
def create_profile_assignment(req, tenant, profile_id):
    entity = profile(tenant, profile_id)
    body = req.json_body()
    for key in body:
        if not key.startswith("@") and key not in ("id", "target", "source", "sourceId"):
            raise unknown_property(key, "windowsAutopilotDeploymentProfileAssignment")
    target = normalize_target(req, tenant, body.get("target"), ASSIGN_TARGETS)
    if target.get("deviceAndAppManagementAssignmentFilterId"):
        raise intune_error(req, "Assignment filters are not supported for Windows Autopilot deployment profiles.")
    assignment_id = "%s_%s_0" % (profile_id, target_id(target))
    same = entity["_assignments"].get(assignment_id)
    if same is not None and same["target"]["@odata.type"] == target["@odata.type"]:
        raise GraphHTTPError(409, "Conflict", "An assignment for target '%s' already exists on this profile."
                             % target_id(target))
    check_target_set(req, [a["target"] for a in entity["_assignments"].values()] + [target])
    assignment = {"id": assignment_id, "target": target, "source": "direct", "sourceId": profile_id}
    entity["_assignments"][assignment_id] = assignment
    entity["lastModifiedDateTime"] = tenant.clock.iso()
    _changed(tenant)
    return entity_response(req, render_assignment(req, assignment), context=req.path.strip("/"), status=201)


@route("DELETE", BASE + "/{profile_id}/assignments/{assignment_id}", versions=BETA, permissions=WRITE)
def delete_profile_assignment(req, tenant, profile_id, assignment_id):
    entity = profile(tenant, profile_id)
    _assignment(entity, assignment_id)
    del entity["_assignments"][assignment_id]
    _changed(tenant)
    return no_content()


@route("POST", BASE + "/{profile_id}/assign", versions=BETA, permissions=("DeviceManagementServiceConfig.ReadWrite.All",))
def assign_profile(req, tenant, profile_id):
    entity = profile(tenant, profile_id)
    body = req.json_body()
    check_props(body, {"deviceIds": "strlist"}, "assign")
    device_ids = body.get("deviceIds") or []
    missing = [d for d in device_ids if tenant.get("windowsAutopilotDeviceIdentities", d) is None]
    if missing:
        raise intune_error(req, "Autopilot device(s) not found: %s" % ", ".join(missing))
    for device_id in device_ids:
        if device_id not in entity["_device_ids"]:
            entity["_device_ids"].append(device_id)
    _changed(tenant)
    return no_content()


@route("GET", BASE + "/{profile_id}/assignedDevices", versions=BETA, permissions=READ)
def assigned_devices(req, tenant, profile_id):
    from . import autopilot_devices
    profile(tenant, profile_id)
    return autopilot_devices.list_for_profile(req, tenant, profile_id)


def seed(tenant):
    """No profile exists in a fresh tenant (the portal starts empty)."""
    tenant.set(PROFILES)

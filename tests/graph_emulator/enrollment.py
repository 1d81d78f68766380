"""Intune enrollment resources: deviceEnrollmentConfigurations (ESP), mobileApps, roleScopeTags, assignmentFilters.

What Microsoft documents, and what this emulator chose where the docs are silent (api-reference/ is in
microsoftgraph/microsoft-graph-docs-contrib; memdocs is MicrosoftDocs/memdocs, where windows-enrollment-status.md is
memdocs/intune/enrollment/windows-enrollment-status.md):

* ``deviceManagement/deviceEnrollmentConfigurations`` is one polymorphic collection
  (api-reference/beta/resources/intune-onboarding-windows10enrollmentcompletionpageconfiguration.md;
  api-reference/beta/api/intune-shared-deviceenrollmentconfiguration-list.md). Every item carries its
  ``@odata.type``. Seeded from the start: the default ESP, the default device limit, the default platform
  restrictions and the default Windows Hello for Business configuration, with the ids real tenants show
  (``{tenantId}_DefaultLimit`` ..., not in Microsoft's docs: mondoohq/mql PR #5681, simeoncloud/Baseline
  Source/Resources/Content/MSGraph/DeviceManagement/DeviceEnrollmentConfigurations/).
* v1.0 returns the reduced v1.0 property sets (for an ESP only the base properties and
  ``allowNonBlockingAppInstallation``; api-reference/v1.0/resources/intune-onboarding-windows10enrollmentcompletionpageconfiguration.md)
  and rejects beta-only properties on write as unknown properties, as ODataLib does.
* POST needs ``@odata.type`` (every create example sends it). Custom ESP ids are
  ``{guid}_Windows10EnrollmentCompletionPageConfiguration`` (the suffix tools filter on, Micke-K/IntuneManagement #41);
  other types get ``{guid}_{TypeSuffix}`` likewise. ``id``, ``createdDateTime``, ``lastModifiedDateTime``,
  ``version``, ``priority`` and ``deviceEnrollmentConfigurationType`` are server-set: sent values are ignored
  (the docs' create example sends ``deviceEnrollmentConfigurationType: "limit"`` for an ESP, a generator placeholder).
  Omitted ESP settings get the defaults of
  api-reference/beta/resources/intune-onboarding-windows10enrollmentcompletionpageconfiguration.md (timeout 60,
  booleans false) and the portal's default custom error message (memdocs windows-enrollment-status.md).
* Priority (memdocs windows-enrollment-status.md: "priority 1 is the highest", the default ESP "applies when no other
  profile is assigned"): priorities are numbered per configuration family (all ESPs, all device-limit
  configurations, ...). The built-in defaults keep priority 0 and are outside the numbering. A new configuration gets
  the next free priority (1, 2, ...). ``setPriority`` moves the configuration to that position and renumbers the
  others 1..n without gaps, as the portal's drag-and-drop re-ordering does; a priority past the end is clamped to the
  last position. Deleting a configuration closes the gap. UNCLEAR in the docs; chosen to match the portal.
  ``setPriority`` with the priority the configuration already has is refused with 400 (not in Microsoft's docs:
  Microsoft365DSC/Microsoft365DSC PR #4295 reports Graph errors on re-setting the same priority), as is any priority
  below 1.
  PATCH does not change the priority (the docs route priority through ``setPriority``): a sent ``priority`` is ignored.
* The built-in defaults are seeded as the two exports above show them: ``createdDateTime`` the zero date, ``version``
  0, ``roleScopeTagIds`` empty, ``deviceEnrollmentConfigurationType`` the type's own value (``limit``,
  ``platformRestrictions``, ``windowsHelloForBusiness``, ``windows10EnrollmentCompletionPageConfiguration``; the enum's
  ``default...`` values appear in neither, so a client must recognise a default by its id,
  ``{tenantId}_Default...``), and the default ESP with the page hidden: ``showInstallationProgress`` false, timeout 0,
  ``customErrorMessage`` "", ``blockDeviceSetupRetryByUser`` true, every other setting false, no apps.
* The default ESP (and the other defaults) cannot be deleted, re-prioritised, renamed or re-assigned: 400
  ``BadRequest`` with Intune's JSON-in-message error shape. The status is undocumented; 400 was chosen because the
  Intune front end answers every other semantic refusal with 400 ``BadRequest``
  (microsoftgraph/microsoft-graph-docs-contrib issue #3693, microsoftgraph/msgraph-sdk-powershell issues #1260 and
  #2464). Its settings can be edited (memdocs: "it can be edited in the portal").
* ``assign`` (204) REPLACES the whole assignment set with the given one (UNCLEAR in the docs, "Not yet documented";
  replacing is what the portal's assignment blade does and what every client sends). The body is validated as a whole
  before anything changes: targets ``groupAssignmentTarget`` / ``exclusionGroupAssignmentTarget`` (existing groupId),
  ``allDevicesAssignmentTarget``, ``allLicensedUsersAssignmentTarget`` (``@odata.type`` with or without ``#``);
  assignment filter id/type (beta only; an existing filter; type include/exclude with an id); all devices together
  with exclusions is refused (memdocs autopilot/profiles.md: "All Devices" does not support exclusions); an ESP takes
  only filters on osVersion/operatingSystemSKU/enrollmentProfileName (memdocs windows-enrollment-status.md); the same
  target twice, or a group both included and excluded, is refused. Assignment ids (undocumented) have the shapes
  real exports show: ``{espGuid}_{groupId}_{espGuid}`` with ``sourceId`` the ESP's GUID, where ``espGuid`` is the
  configuration id before its ``_`` suffix (andrew-s-taylor/public IntuneConfig/baseline.json); the built-in default's
  one assignment has the configuration's own id and ``sourceId`` null (same file). All devices and all users take the
  place of the group with the pseudo-group ids Intune uses for them, ``adadadad-808e-44e2-905a-0b7873a8a531`` and
  ``acacacac-9df4-4c7d-9d50-4ef0226f57a9`` (rknightion/graph2otel internal/collectors/intune/autopilot/autopilot_test.go;
  Pacers31Colts18/Intune.Docs Docs/ConfigurationPolicies/Assignments/WIN_U_CISL1_Autopilot_PROD.md); that an ESP uses
  them in this place, and the shape of an exclusion's id, are the emulator's choice. Clients must not parse them.
* A group created through Graph is unknown to Intune's assignment service for ``settings['group_assignment_delay']``
  service seconds (realistic 300, best case 0): an assignment naming it as an include or exclusion target (ESP
  ``assign``, Autopilot profile ``assignments`` POST) is refused. Microsoft documents neither the delay nor the
  answer. Field reports show the delay for other services that consume new Entra groups (kayasax/EasyPIM issue 22:
  5 to more than 30 seconds; microsoftgraph/msgraph-bicep-types issue 193: minutes; Microsoft365DSC PR 7167: a new
  group not yet replicated to the Graph endpoint in use), and show that Intune's front end refuses an assignment it
  will not make with 400 ``BadRequest`` whose JSON-in-message text is only "An error has occurred"
  (terraprovider/terraform-provider-microsoft365wp issue 12, an ``assign`` right after creating the profile;
  okieselbach/Intune issue 23 for ``assignUserToDevice``). No public report quotes Intune's answer for a group it
  does not know yet, so the emulator answers that generic form: a client must retry a 400 on an assignment to a
  group it created moments before, and cannot tell it from another refusal by the text. Groups planted through the
  control API are known at once.
* ``$expand=assignments`` works on the list and on GET by id (what Intune tools use to read assignments in one call).
* PATCH answers 200 with the entity
  (api-reference/beta/api/intune-onboarding-windows10enrollmentcompletionpageconfiguration-update.md: "200 OK" and
  the updated object), validates types, enum values and unknown properties (400; without ``@odata.type`` the body
  is read as the base type, so derived-type properties are unknown, as ODataLib does), ``customErrorMessage`` at
  most 10,000 characters, ``selectedMobileAppIds`` existing apps (at most 100, memdocs), ``roleScopeTagIds``
  existing tags. ``installProgressTimeoutInMinutes`` 0 is accepted: Graph
  documents no lower bound, real default ESPs hold 0 while the page is hidden (two independent exports:
  Pacers31Colts18/Intune.Docs Docs/DeviceEnrollmentConfigurations/All_users_and_all_devices.md, andrew-s-taylor/public
  IntuneConfig/baseline.json) and a restore of such an export PATCHes it back; a negative number is refused (emulator
  choice: nothing reports the service's answer).
* Intune's semantic errors carry a JSON string in ``error.message`` (``_version``, ``Message`` with "Operation ID ...
  Activity ID ... Url ...", ``CustomApiErrorPhrase``, ``RetryAfter``, ``ErrorSourceService``, ``HttpHeaders``), as the
  issue threads show (microsoftgraph/microsoft-graph-docs-contrib issue #3693, microsoftgraph/msgraph-sdk-powershell
  issues #1260 and #2464, andrew-s-taylor/WindowsAutopilotInfo issue #21); see :func:`intune_error`. Body
  deserialisation errors (unknown property, wrong JSON type) use ODataLib's plain messages.

This module also holds the helpers the Autopilot modules share (property validation, assignment targets,
Intune errors).
"""

import copy
import json
import re

from .core import GraphHTTPError, bad_request, new_id, no_content, not_found, odata_type_name, public, route
from .odata import entity_response, list_response

NS = "#microsoft.graph."
ZERO_DATE = "0001-01-01T00:00:00Z"

# Application permissions, least privileged first (the Permissions tables of the ESP pages:
# api-reference/beta/api/intune-onboarding-windows10enrollmentcompletionpageconfiguration-*.md,
# intune-onboarding-deviceenrollmentconfiguration-assign.md, intune-shared-deviceenrollmentconfiguration-setpriority.md).
READ = ("DeviceManagementServiceConfig.Read.All", "DeviceManagementServiceConfig.ReadWrite.All",
        "DeviceManagementConfiguration.Read.All", "DeviceManagementConfiguration.ReadWrite.All")
WRITE = ("DeviceManagementServiceConfig.ReadWrite.All", "DeviceManagementConfiguration.ReadWrite.All")
APPS_READ = ("DeviceManagementApps.Read.All", "DeviceManagementApps.ReadWrite.All")
RBAC_READ = ("DeviceManagementRBAC.Read.All", "DeviceManagementRBAC.ReadWrite.All")
FILTERS_READ = ("DeviceManagementConfiguration.Read.All", "DeviceManagementConfiguration.ReadWrite.All")

BASE = "/deviceManagement/deviceEnrollmentConfigurations"
CONFIGS = "deviceEnrollmentConfigurations"
ESP = "windows10EnrollmentCompletionPageConfiguration"
DEFAULT_ESP_MESSAGE = "Setup could not be completed. Please try again or contact your support person for help."
# The pseudo-group ids Intune gives "all devices" and "all users" in assignment ids (module docstring).
ALL_DEVICES_ID = "adadadad-808e-44e2-905a-0b7873a8a531"
ALL_USERS_ID = "acacacac-9df4-4c7d-9d50-4ef0226f57a9"
PSEUDO_GROUPS = {"allDevicesAssignmentTarget": ALL_DEVICES_ID, "allLicensedUsersAssignmentTarget": ALL_USERS_ID}
MAX_MESSAGE = 10000
MAX_SELECTED_APPS = 100


# --------------------------------------------------------------------------------------------------------------
# Shared helpers (also used by autopilot_profiles.py / autopilot_devices.py)
# --------------------------------------------------------------------------------------------------------------

def intune_error(req, message, status=400, code="BadRequest", headers=None):
    """A ``GraphHTTPError`` in the Intune front end's shape: ``error.message`` is itself a JSON string."""
    activity = getattr(req, "request_id", "") or new_id()
    path = getattr(req, "path", "") or ""
    inner = {
        "_version": 3,
        "Message": "%s - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - "
                   "Activity ID: %s - Url: https://fef.msub01.manage.microsoft.com/DeviceEnrollmentFE/"
                   "StatelessDeviceEnrollmentFEService%s?api-version=5022-03-28" % (message, activity, path),
        "CustomApiErrorPhrase": "",
        "RetryAfter": None,
        "ErrorSourceService": "",
        "HttpHeaders": "{}",
    }
    return GraphHTTPError(status, code, json.dumps(inner), headers)


def unknown_property(name, type_name):
    return bad_request("The property '%s' does not exist on type 'microsoft.graph.%s'. Make sure to only use "
                       "property names that are defined by the type or mark the type as open type." % (name, type_name))


_EDM = {"str": "Edm.String", "bool": "Edm.Boolean", "int": "Edm.Int32", "date": "Edm.DateTimeOffset"}


def check_value(name, value, kind, type_name):
    """Validate one JSON value against ``kind``: 'str', 'bool', 'int', 'date', 'strlist', ('enum', values),
    ('obj', table, complex_type_name). ``None`` is accepted for strings, lists and objects (nullable)."""
    if isinstance(kind, tuple) and kind[0] == "enum":
        if not isinstance(value, str) or value not in kind[1]:
            raise bad_request("Requested value '%s' was not found." % (value,))
        return
    if isinstance(kind, tuple) and kind[0] == "obj":
        if value is None:
            return
        if not isinstance(value, dict):
            raise bad_request("Cannot convert a primitive value to the expected type 'microsoft.graph.%s'." % kind[2])
        check_props(value, kind[1], kind[2])
        return
    if kind == "bool":
        ok_ = isinstance(value, bool)
    elif kind == "int":
        ok_ = isinstance(value, int) and not isinstance(value, bool) and -2 ** 31 <= value < 2 ** 31
    elif kind == "strlist":
        ok_ = value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    else:  # str, date
        ok_ = value is None or isinstance(value, str)
    if not ok_:
        raise bad_request("Cannot convert the literal '%s' to the expected type '%s'." % (
            json.dumps(value), _EDM.get(kind, "Collection(Edm.String)")))


def check_props(body, table, type_name):
    """Reject unknown properties and wrong JSON types; ``@odata.*`` annotations are left to the caller."""
    for key, value in body.items():
        if key.startswith("@"):
            continue
        if key not in table:
            raise unknown_property(key, type_name)
        check_value(key, value, table[key], type_name)


def expand_assignments(req):
    """Handle ``$expand=assignments`` (the only navigation the Intune lists here expand; anything else is a 400).

    Returns ``(request without $expand, expand?)``; with ``$select`` the expanded navigation is kept, as OData does."""
    raw = req.query.get("$expand")
    if raw is None:
        return req, False
    wanted = {part.strip() for part in raw.split(",") if part.strip()}
    if wanted != {"assignments"}:
        raise bad_request("Could not find a navigation property named '%s' that can be expanded; only 'assignments' "
                          "is supported here." % raw)
    clone = copy.copy(req)
    clone.query = {k: v for k, v in req.query.items() if k != "$expand"}
    if clone.query.get("$select"):
        clone.query["$select"] += ",assignments"
    return clone, True


def full_type(name):
    return NS + name


# Assignment targets -------------------------------------------------------------------------------------------

TARGET_TYPES = ("groupAssignmentTarget", "exclusionGroupAssignmentTarget", "allDevicesAssignmentTarget",
                "allLicensedUsersAssignmentTarget")
FILTER_TYPES = ("none", "include", "exclude")
FILTER_KEYS = ("deviceAndAppManagementAssignmentFilterId", "deviceAndAppManagementAssignmentFilterType")


def normalize_target(req, tenant, target, allowed=TARGET_TYPES):
    """Validate one assignment target and return it as stored (``#``-prefixed type, filter keys always present).

    Filters (beta only) must name an existing ``assignmentFilters`` entry; type ``include``/``exclude`` needs an id and
    an id needs one of them; exclusion targets take no filter (the portal offers none)."""
    if not isinstance(target, dict):
        raise bad_request("Invalid assignment: 'target' is required.")
    type_name = odata_type_name(target.get("@odata.type"))
    if type_name not in allowed:
        raise intune_error(req, "Assignment target type '%s' is not supported for this resource." % target.get("@odata.type"))
    table = {"deviceAndAppManagementAssignmentFilterId": "str",
             "deviceAndAppManagementAssignmentFilterType": ("enum", FILTER_TYPES)}
    if type_name in ("groupAssignmentTarget", "exclusionGroupAssignmentTarget"):
        table["groupId"] = "str"
    if req.version == "v1.0":
        for key in FILTER_KEYS:
            table.pop(key)
    check_props(target, table, type_name)
    out = {"@odata.type": full_type(type_name)}
    if "groupId" in table:
        group_id = target.get("groupId")
        group = tenant.get("groups", group_id) if group_id else None
        if group is None:
            raise intune_error(req, "Group '%s' was not found in the directory." % group_id)
        if tenant.clock.now() < group.get("_intune_known_at", 0):
            raise intune_error(req, "An error has occurred")  # a group Intune does not know yet (module docstring)
        out["groupId"] = group_id
    filter_id = target.get("deviceAndAppManagementAssignmentFilterId") or None
    filter_type = target.get("deviceAndAppManagementAssignmentFilterType") or "none"
    if filter_id and tenant.get("assignmentFilters", filter_id) is None:
        raise intune_error(req, "Assignment filter '%s' was not found." % filter_id)
    if bool(filter_id) != (filter_type != "none"):
        raise intune_error(req, "An assignment filter needs both a filter id and a filter type of include or exclude.")
    if filter_id and type_name == "exclusionGroupAssignmentTarget":
        raise intune_error(req, "Assignment filters are not supported on exclusion assignments.")
    out["deviceAndAppManagementAssignmentFilterId"] = filter_id
    out["deviceAndAppManagementAssignmentFilterType"] = filter_type
    return out


def target_key(target):
    """What a target points at: a group id, or the all-devices/all-users pseudo target."""
    return target.get("groupId") or odata_type_name(target["@odata.type"])


def target_id(target):
    """The id Intune puts in an assignment id for a target: the group's, or the pseudo-group's (module docstring)."""
    return target.get("groupId") or PSEUDO_GROUPS.get(odata_type_name(target["@odata.type"]), ALL_DEVICES_ID)


def check_target_set(req, targets):
    """Whole-set rules: no duplicates, a group not both included and excluded, all devices without exclusions."""
    seen = set()
    included, excluded = set(), set()
    for target in targets:
        type_name = odata_type_name(target["@odata.type"])
        key = (type_name, target_key(target))
        if key in seen:
            raise intune_error(req, "The same assignment target appears more than once.")
        seen.add(key)
        if type_name == "exclusionGroupAssignmentTarget":
            excluded.add(target["groupId"])
        elif type_name == "groupAssignmentTarget":
            included.add(target["groupId"])
    if included & excluded:
        raise intune_error(req, "A group cannot be both included and excluded.")
    kinds = {odata_type_name(t["@odata.type"]) for t in targets}
    if "allDevicesAssignmentTarget" in kinds and "exclusionGroupAssignmentTarget" in kinds:
        raise intune_error(req, "Exclusion groups are not supported when the assignment targets all devices.")


def render_target(req, target):
    out = dict(target)
    if req.version == "v1.0":
        for key in FILTER_KEYS:
            out.pop(key, None)
    return out


# --------------------------------------------------------------------------------------------------------------
# deviceEnrollmentConfigurations
# --------------------------------------------------------------------------------------------------------------

CONFIG_TYPE_ENUM = ("unknown", "limit", "platformRestrictions", "windowsHelloForBusiness", "defaultLimit",
                    "defaultPlatformRestrictions", "defaultWindowsHelloForBusiness",
                    "defaultWindows10EnrollmentCompletionPageConfiguration", ESP,
                    "deviceComanagementAuthorityConfiguration", "singlePlatformRestriction", "unknownFutureValue",
                    "enrollmentNotificationsConfiguration", "windowsRestore")
ENABLEMENT = ("notConfigured", "enabled", "disabled")
PIN_USAGE = ("allowed", "required", "disallowed")

BASE_V1 = {"id": "str", "displayName": "str", "description": "str", "priority": "int", "createdDateTime": "date",
           "lastModifiedDateTime": "date", "version": "int"}
BASE_BETA = dict(BASE_V1, roleScopeTagIds="strlist", deviceEnrollmentConfigurationType=("enum", CONFIG_TYPE_ENUM))

RESTRICTION_V1 = {"platformBlocked": "bool", "personalDeviceEnrollmentBlocked": "bool", "osMinimumVersion": "str",
                  "osMaximumVersion": "str"}
RESTRICTION_BETA = dict(RESTRICTION_V1, blockedManufacturers="strlist", blockedSkus="strlist")


def _restriction(table):
    return ("obj", table, "deviceEnrollmentPlatformRestriction")


ESP_V1 = {"allowNonBlockingAppInstallation": "bool"}
ESP_BETA = {
    "showInstallationProgress": "bool", "blockDeviceSetupRetryByUser": "bool",
    "allowDeviceResetOnInstallFailure": "bool", "allowLogCollectionOnInstallFailure": "bool",
    "customErrorMessage": "str", "installProgressTimeoutInMinutes": "int", "allowDeviceUseOnInstallFailure": "bool",
    "selectedMobileAppIds": "strlist", "allowNonBlockingAppInstallation": "bool", "installQualityUpdates": "bool",
    "trackInstallProgressForAutopilotOnly": "bool", "disableUserStatusTrackingAfterFirstUser": "bool",
}
WHFB_V1 = {"pinMinimumLength": "int", "pinMaximumLength": "int", "pinUppercaseCharactersUsage": ("enum", PIN_USAGE),
           "pinLowercaseCharactersUsage": ("enum", PIN_USAGE), "pinSpecialCharactersUsage": ("enum", PIN_USAGE),
           "state": ("enum", ENABLEMENT), "securityDeviceRequired": "bool", "unlockWithBiometricsEnabled": "bool",
           "remotePassportEnabled": "bool", "pinPreviousBlockCount": "int", "pinExpirationInDays": "int",
           "enhancedBiometricsState": ("enum", ENABLEMENT)}
WHFB_BETA = dict(WHFB_V1, securityKeyForSignIn=("enum", ENABLEMENT), enhancedSignInSecurity="int")
PLATFORMS_V1 = ("iosRestriction", "windowsRestriction", "windowsMobileRestriction", "androidRestriction",
                "macOSRestriction")
PLATFORMS_BETA = PLATFORMS_V1 + ("windowsHomeSkuRestriction", "androidForWorkRestriction", "macRestriction",
                                 "tvosRestriction", "visionOSRestriction")

# type name -> (family enum value, id suffix, beta own props, v1.0 own props)
CONFIG_TYPES = {
    ESP: (ESP, "Windows10EnrollmentCompletionPageConfiguration", ESP_BETA, ESP_V1),
    "deviceEnrollmentLimitConfiguration": ("limit", "Limit", {"limit": "int"}, {"limit": "int"}),
    "deviceEnrollmentWindowsHelloForBusinessConfiguration": ("windowsHelloForBusiness", "WindowsHelloForBusiness",
                                                             WHFB_BETA, WHFB_V1),
    "deviceEnrollmentPlatformRestrictionsConfiguration": (
        "platformRestrictions", "PlatformRestrictions",
        {p: _restriction(RESTRICTION_BETA) for p in PLATFORMS_BETA},
        {p: _restriction(RESTRICTION_V1) for p in PLATFORMS_V1}),
}
READ_ONLY = ("id", "createdDateTime", "lastModifiedDateTime", "version", "priority", "deviceEnrollmentConfigurationType")

ESP_DEFAULTS = {
    "showInstallationProgress": False, "blockDeviceSetupRetryByUser": False,
    "allowDeviceResetOnInstallFailure": False, "allowLogCollectionOnInstallFailure": False,
    "customErrorMessage": DEFAULT_ESP_MESSAGE, "installProgressTimeoutInMinutes": 60,
    "allowDeviceUseOnInstallFailure": False, "selectedMobileAppIds": [], "allowNonBlockingAppInstallation": False,
    "installQualityUpdates": False, "trackInstallProgressForAutopilotOnly": False,
    "disableUserStatusTrackingAfterFirstUser": False,
}


def _table(type_name, version):
    spec = CONFIG_TYPES[type_name]
    if version == "v1.0":
        return dict(BASE_V1, **spec[3])
    return dict(BASE_BETA, **spec[2])


def _type_of(entity):
    return odata_type_name(entity["@odata.type"])


def is_default(entity):
    """A built-in default, known by its id (``{tenantId}_Default...``): real defaults report their type's own
    ``deviceEnrollmentConfigurationType`` (module docstring)."""
    return entity["id"].partition("_")[2].startswith("Default")


def _family(entity):
    return CONFIG_TYPES[_type_of(entity)][0]


def _project(value, kind):
    if isinstance(kind, tuple) and kind[0] == "obj" and isinstance(value, dict):
        return {k: copy.deepcopy(v) for k, v in value.items() if k in kind[1] or k == "@odata.type"}
    return copy.deepcopy(value)


def render_config(req, entity):
    """The configuration as this API version returns it (nested complex values projected too)."""
    table = _table(_type_of(entity), req.version)
    out = {"@odata.type": entity["@odata.type"]}
    for key, value in entity.items():
        if key in table:
            out[key] = _project(value, table[key])
    return out


def _check_settings(req, tenant, body):
    """Semantic checks of ESP settings (after type checks)."""
    message = body.get("customErrorMessage")
    if isinstance(message, str) and len(message) > MAX_MESSAGE:
        raise intune_error(req, "customErrorMessage exceeds the maximum length of %d characters." % MAX_MESSAGE)
    timeout = body.get("installProgressTimeoutInMinutes")
    if timeout is not None and timeout < 0:
        raise intune_error(req, "installProgressTimeoutInMinutes cannot be a negative number of minutes.")
    apps = body.get("selectedMobileAppIds")
    if apps:
        if len(apps) > MAX_SELECTED_APPS:
            raise intune_error(req, "At most %d apps can be selected." % MAX_SELECTED_APPS)
        missing = [a for a in apps if tenant.get("mobileApps", a) is None]
        if missing:
            raise intune_error(req, "Mobile app(s) not found: %s" % ", ".join(missing))
    tags = body.get("roleScopeTagIds")
    if tags:
        missing = [t for t in tags if tenant.get("roleScopeTags", t) is None]
        if missing:
            raise intune_error(req, "Role scope tag(s) not found: %s" % ", ".join(missing))


def _ordered(tenant, family):
    items = [e for e in tenant.set(CONFIGS).values() if not is_default(e) and _family(e) == family]
    return sorted(items, key=lambda e: (e.get("priority", 0), e.get("createdDateTime", "")))


def _renumber(tenant, items):
    for index, item in enumerate(items, start=1):
        item["priority"] = index


def _config(tenant, config_id):
    entity = tenant.get(CONFIGS, config_id)
    if entity is None:
        raise not_found(CONFIGS, config_id)
    return entity


def _touch(tenant, entity):
    entity["lastModifiedDateTime"] = tenant.clock.iso()
    entity["version"] = entity.get("version", 0) + 1


@route("GET", BASE, permissions=READ)
def list_configs(req, tenant):
    req, expand = expand_assignments(req)
    items = [_with_assignments(req, e, expand) for e in tenant.listed(CONFIGS)]
    return list_response(req, tenant, items)


def _with_assignments(req, entity, expand):
    out = render_config(req, entity)
    if expand:
        out["assignments"] = [_render_assignment(req, a) for a in entity.get("_assignments", [])]
    return out


@route("GET", BASE + "/{config_id}", permissions=READ)
def get_config(req, tenant, config_id):
    req, expand = expand_assignments(req)
    return entity_response(req, _with_assignments(req, _config(tenant, config_id), expand))


@route("POST", BASE, permissions=WRITE)
def create_config(req, tenant):
    body = req.json_body()
    type_name = odata_type_name(body.get("@odata.type"))
    if type_name not in CONFIG_TYPES:
        raise bad_request("A type named '%s' could not be resolved by the model. When a model is available, each "
                          "type name must resolve to a valid type." % body.get("@odata.type")
                          if body.get("@odata.type") else
                          "The request body needs an '@odata.type' naming the enrollment configuration type.")
    check_props(body, _table(type_name, req.version), type_name)
    _check_settings(req, tenant, body)
    family, suffix, _beta, _v1 = CONFIG_TYPES[type_name]
    now = tenant.clock.iso()
    entity = {"@odata.type": full_type(type_name), "id": "%s_%s" % (new_id(), suffix)}
    if type_name == ESP:
        entity.update(copy.deepcopy(ESP_DEFAULTS))
    entity.update({"displayName": None, "description": None, "roleScopeTagIds": ["0"]})
    for key, value in body.items():
        if not key.startswith("@") and key not in READ_ONLY:
            entity[key] = copy.deepcopy(value)
    if not entity.get("roleScopeTagIds"):
        entity["roleScopeTagIds"] = ["0"]
    entity.update({"createdDateTime": now, "lastModifiedDateTime": now, "version": 1,
                   "deviceEnrollmentConfigurationType": family,
                   "priority": len(_ordered(tenant, family)) + 1, "_assignments": []})
    tenant.add(CONFIGS, entity, replicate=False)
    return entity_response(req, render_config(req, entity), context=req.path.strip("/"), status=201)


@route("PATCH", BASE + "/{config_id}", permissions=WRITE)
def update_config(req, tenant, config_id):
    entity = _config(tenant, config_id)
    body = req.json_body()
    type_name = _type_of(entity)
    sent_type = body.get("@odata.type")
    if sent_type is not None and odata_type_name(sent_type) != type_name:
        raise bad_request("The @odata.type '%s' does not match the type of the entity '%s'." % (sent_type, entity["@odata.type"]))
    if sent_type is None:
        # Without @odata.type ODataLib reads the body as the entity set's declared base type, so properties of the
        # derived type are unknown there (the update examples all send @odata.type).
        check_props(body, BASE_V1 if req.version == "v1.0" else BASE_BETA, "deviceEnrollmentConfiguration")
    check_props(body, _table(type_name, req.version), type_name)
    _check_settings(req, tenant, body)
    if is_default(entity) and "displayName" in body and body["displayName"] != entity.get("displayName"):
        raise intune_error(req, "The name of a default enrollment configuration cannot be changed.")
    for key, value in body.items():
        if not key.startswith("@") and key not in READ_ONLY:
            entity[key] = copy.deepcopy(value)
    _touch(tenant, entity)
    return entity_response(req, render_config(req, entity))


@route("DELETE", BASE + "/{config_id}", permissions=("DeviceManagementServiceConfig.ReadWrite.All",))
def delete_config(req, tenant, config_id):
    entity = _config(tenant, config_id)
    if is_default(entity):
        raise intune_error(req, "Default enrollment configurations cannot be deleted.")
    family = _family(entity)
    tenant.remove(CONFIGS, config_id)
    _renumber(tenant, _ordered(tenant, family))
    return no_content()


@route("POST", BASE + "/{config_id}/setPriority", permissions=WRITE)
def set_priority(req, tenant, config_id):
    entity = _config(tenant, config_id)
    body = req.json_body()
    check_props(body, {"priority": "int"}, "setPriority")
    priority = body.get("priority")
    if priority is None:
        raise bad_request("The parameter 'priority' is required.")
    if is_default(entity):
        raise intune_error(req, "The priority of a default enrollment configuration cannot be changed.")
    if priority < 1:
        raise intune_error(req, "Priority must be 1 or greater.")
    if priority == entity.get("priority"):
        raise intune_error(req, "The configuration already has priority %d." % priority)
    others = [e for e in _ordered(tenant, _family(entity)) if e["id"] != config_id]
    position = min(priority, len(others) + 1) - 1
    others.insert(position, entity)
    _renumber(tenant, others)
    entity["lastModifiedDateTime"] = tenant.clock.iso()
    return no_content()


# Assignments ---------------------------------------------------------------------------------------------------

def _render_assignment(req, assignment):
    out = {"@odata.type": full_type("enrollmentConfigurationAssignment"), "id": assignment["id"],
           "target": render_target(req, assignment["target"])}
    if req.version == "beta":
        out["source"] = assignment.get("source", "direct")
        out["sourceId"] = assignment.get("sourceId")
    return out


def _new_assignment(entity, target):
    """An assignment as Intune stores it, its id in the shape real exports show (module docstring)."""
    if is_default(entity):
        return {"id": entity["id"], "target": target, "source": "direct", "sourceId": None}
    guid = entity["id"].partition("_")[0]
    return {"id": "%s_%s_%s" % (guid, target_id(target), guid), "target": target, "source": "direct", "sourceId": guid}


ESP_FILTER_PROPERTIES = {"osversion", "operatingsystemsku", "enrollmentprofilename"}


def _check_esp_filter(req, tenant, entity, target):
    """memdocs windows-enrollment-status.md: ESP assignments offer only filters built on osVersion,
    operatingSystemSKU and enrollmentProfileName; a filter using other device properties is refused."""
    filter_id = target.get("deviceAndAppManagementAssignmentFilterId")
    if not filter_id or _type_of(entity) != ESP:
        return
    rule = (tenant.get("assignmentFilters", filter_id) or {}).get("rule") or ""
    used = {name.lower() for name in re.findall(r"device\.(\w+)", rule)}
    if used - ESP_FILTER_PROPERTIES:
        raise intune_error(req, "Assignment filter '%s' uses properties that are not supported for Enrollment Status "
                                "Page assignments (supported: osVersion, operatingSystemSKU, enrollmentProfileName)."
                           % filter_id)


def _assignment_body(req, tenant, item):
    if not isinstance(item, dict):
        raise bad_request("Each enrollmentConfigurationAssignment must be an object.")
    table = {"id": "str", "target": ("obj", {}, "deviceAndAppManagementAssignmentTarget")}
    if req.version == "beta":
        table.update(source=("enum", ("direct", "policySets")), sourceId="str")
    for key in item:
        if not key.startswith("@") and key not in table:
            raise unknown_property(key, "enrollmentConfigurationAssignment")
    return normalize_target(req, tenant, item.get("target"))


@route("POST", BASE + "/{config_id}/assign", permissions=WRITE)
def assign_config(req, tenant, config_id):
    entity = _config(tenant, config_id)
    body = req.json_body()
    for key in body:
        if key != "enrollmentConfigurationAssignments":
            raise unknown_property(key, "assign")
    items = body.get("enrollmentConfigurationAssignments")
    if not isinstance(items, list):
        raise bad_request("The parameter 'enrollmentConfigurationAssignments' is required and must be a collection.")
    if is_default(entity):
        raise intune_error(req, "The assignments of a default enrollment configuration cannot be changed.")
    targets = [_assignment_body(req, tenant, item) for item in items]
    for target in targets:
        _check_esp_filter(req, tenant, entity, target)
    check_target_set(req, targets)
    entity["_assignments"] = [_new_assignment(entity, t) for t in targets]
    entity["lastModifiedDateTime"] = tenant.clock.iso()
    return no_content()


@route("GET", BASE + "/{config_id}/assignments", permissions=READ)
def list_config_assignments(req, tenant, config_id):
    entity = _config(tenant, config_id)
    items = [_render_assignment(req, a) for a in entity.get("_assignments", [])]
    return list_response(req, tenant, items)


def _find_assignment(entity, assignment_id):
    for assignment in entity.get("_assignments", []):
        if assignment["id"] == assignment_id:
            return assignment
    raise not_found("enrollmentConfigurationAssignments", assignment_id)


@route("GET", BASE + "/{config_id}/assignments/{assignment_id}", permissions=READ)
def get_config_assignment(req, tenant, config_id, assignment_id):
    entity = _config(tenant, config_id)
    return entity_response(req, _render_assignment(req, _find_assignment(entity, assignment_id)))


@route("POST", BASE + "/{config_id}/assignments", permissions=WRITE)
def create_config_assignment(req, tenant, config_id):
    entity = _config(tenant, config_id)
    target = _assignment_body(req, tenant, req.json_body())
    if is_default(entity):
        raise intune_error(req, "The assignments of a default enrollment configuration cannot be changed.")
    _check_esp_filter(req, tenant, entity, target)
    targets = [a["target"] for a in entity.get("_assignments", [])] + [target]
    check_target_set(req, targets)
    assignment = _new_assignment(entity, target)
    entity.setdefault("_assignments", []).append(assignment)
    return entity_response(req, _render_assignment(req, assignment), context=req.path.strip("/"), status=201)


@route("DELETE", BASE + "/{config_id}/assignments/{assignment_id}", permissions=WRITE)
def delete_config_assignment(req, tenant, config_id, assignment_id):
    entity = _config(tenant, config_id)
    assignment = _find_assignment(entity, assignment_id)
    if is_default(entity):
        raise intune_error(req, "The assignments of a default enrollment configuration cannot be changed.")
    entity["_assignments"].remove(assignment)
    return no_content()


# --------------------------------------------------------------------------------------------------------------
# mobileApps, roleScopeTags, assignmentFilters (read-only here: the collection only resolves names through them)
# --------------------------------------------------------------------------------------------------------------

@route("GET", "/deviceAppManagement/mobileApps", permissions=APPS_READ)
def list_apps(req, tenant):
    return list_response(req, tenant, [public(e) for e in tenant.listed("mobileApps")])


@route("GET", "/deviceAppManagement/mobileApps/{app_id}", permissions=APPS_READ)
def get_app(req, tenant, app_id):
    return entity_response(req, public(tenant.require("mobileApps", app_id)))


@route("GET", "/deviceManagement/roleScopeTags", versions=("beta",), permissions=RBAC_READ)
def list_scope_tags(req, tenant):
    return list_response(req, tenant, [public(e) for e in tenant.listed("roleScopeTags")])


@route("GET", "/deviceManagement/roleScopeTags/{tag_id}", versions=("beta",), permissions=RBAC_READ)
def get_scope_tag(req, tenant, tag_id):
    return entity_response(req, public(tenant.require("roleScopeTags", tag_id)))


@route("GET", "/deviceManagement/assignmentFilters", versions=("beta",), permissions=FILTERS_READ)
def list_filters(req, tenant):
    return list_response(req, tenant, [public(e) for e in tenant.listed("assignmentFilters")])


@route("GET", "/deviceManagement/assignmentFilters/{filter_id}", versions=("beta",), permissions=FILTERS_READ)
def get_filter(req, tenant, filter_id):
    return entity_response(req, public(tenant.require("assignmentFilters", filter_id)))


# --------------------------------------------------------------------------------------------------------------
# Seed
# --------------------------------------------------------------------------------------------------------------

def _app(tenant, type_name, display_name, publisher, **extra):
    now = tenant.clock.iso()
    app = {
        "@odata.type": full_type(type_name), "id": new_id(), "displayName": display_name,
        "description": display_name, "publisher": publisher, "largeIcon": None, "createdDateTime": now,
        "lastModifiedDateTime": now, "isFeatured": False, "privacyInformationUrl": None, "informationUrl": None,
        "owner": "", "developer": "", "notes": "", "uploadState": 1, "publishingState": "published",
        "isAssigned": False, "roleScopeTagIds": ["0"], "dependentAppCount": 0, "supersedingAppCount": 0,
        "supersededAppCount": 0,
    }
    app.update(extra)
    return app


def _win32(tenant, name, publisher, file_name, version="1.0.0"):
    return _app(tenant, "win32LobApp", name, publisher, fileName=file_name, setupFilePath=file_name.replace(".intunewin", ".exe"),
                installCommandLine="%s /quiet" % file_name.replace(".intunewin", ".exe"),
                uninstallCommandLine="%s /uninstall /quiet" % file_name.replace(".intunewin", ".exe"),
                displayVersion=version, committedContentVersion="1", size=1048576,
                applicableArchitectures="x64", allowedArchitectures="x64", minimumSupportedWindowsRelease="1607")


def _winget(tenant, name, publisher, package):
    return _app(tenant, "winGetApp", name, publisher, packageIdentifier=package, manifestHash="",
                installExperience={"runAsAccount": "system"})


def seed_apps(tenant):
    apps = [
        _app(tenant, "officeSuiteApp", "Microsoft 365 Apps for Windows 10 and later", "Microsoft",
             autoAcceptEula=True, productIds=["o365ProPlusRetail"], updateChannel="current",
             officePlatformArchitecture="x64", localesToInstall=[], installProgressDisplayLevel="none",
             shouldUninstallOlderVersionsOfOffice=True, targetVersion="", updateVersion="",
             useSharedComputerActivation=False, officeSuiteAppDefaultFileFormat="officeOpenXMLFormat"),
        _app(tenant, "windowsMicrosoftEdgeApp", "Microsoft Edge for Windows 10 and later", "Microsoft",
             channel="stable", displayLanguageLocale=None),
        _winget(tenant, "Company Portal", "Microsoft Corporation", "9WZDNCRFJ3PZ"),
        _win32(tenant, "Company Portal", "Contoso IT", "CompanyPortal.intunewin", "11.2.0"),
        _winget(tenant, "Microsoft Teams", "Microsoft Corporation", "XP8BT8DW290MPQ"),
        _win32(tenant, "7-Zip", "Igor Pavlov", "7zip.intunewin", "23.01"),
        _win32(tenant, "Contoso VPN Client", "Contoso IT", "ContosoVPN.intunewin", "4.2.1"),
        _win32(tenant, "Adobe Acrobat Reader", "Adobe", "AcroRdr.intunewin", "24.1.0"),
        _winget(tenant, "Notepad++", "Notepad++ Team", "9MSMLRH6LZF3"),
        _win32(tenant, "Contoso Line of Business", "Contoso IT", "ContosoLOB.intunewin", "2.0.0"),
        _app(tenant, "webApp", "Contoso Intranet", "Contoso IT", appUrl="https://intranet.contoso.com",
             useManagedBrowser=False),
        _app(tenant, "iosStoreApp", "Microsoft Authenticator", "Microsoft Corporation",
             bundleId="com.microsoft.azureauthenticator", appStoreUrl="https://apps.apple.com/app/id983156458",
             applicableDeviceType={"iPad": True, "iPhoneAndIPod": True},
             minimumSupportedOperatingSystem={"v15_0": True}),
    ]
    for app in apps:
        tenant.add("mobileApps", app, replicate=False)


def seed_scope_tags(tenant):
    tags = [("0", "Default", "Built-in scope tag", True), ("1", "Site-Paris", "Devices of the Paris site", False),
            ("2", "Site-Berlin", "Devices of the Berlin site", False)]
    for tag_id, name, description, builtin in tags:
        tenant.add("roleScopeTags", {"@odata.type": full_type("roleScopeTag"), "id": tag_id, "displayName": name,
                                     "description": description, "isBuiltIn": builtin}, replicate=False)


def seed_filters(tenant):
    now = tenant.clock.iso()
    filters = [("Windows 11 devices", '(device.osVersion -startsWith "10.0.22")'),
               ("Autopilot profile devices", '(device.enrollmentProfileName -eq "User driven Entra join")'),
               ("Windows 10 devices", '(device.osVersion -startsWith "10.0.19")'),
               ("Surface devices", '(device.model -startsWith "Surface")')]
    for name, rule in filters:
        tenant.add("assignmentFilters", {
            "@odata.type": full_type("deviceAndAppManagementAssignmentFilter"), "id": new_id(),
            "createdDateTime": now, "lastModifiedDateTime": now, "displayName": name, "description": "",
            "platform": "windows10AndLater", "rule": rule, "roleScopeTags": ["0"], "payloads": [],
            "assignmentFilterManagementType": "devices"}, replicate=False)


def _default_config(tenant, type_name, suffix, family, name, description, target, **settings):
    """A built-in default as real tenants hold it (module docstring)."""
    entity = {"@odata.type": full_type(type_name), "id": "%s_%s" % (tenant.tenant_id, suffix), "displayName": name,
              "description": description, "priority": 0, "createdDateTime": ZERO_DATE,
              "lastModifiedDateTime": tenant.clock.iso(), "version": 0, "roleScopeTagIds": [],
              "deviceEnrollmentConfigurationType": family}
    entity["_assignments"] = [_new_assignment(entity, {"@odata.type": full_type(target),
                                                       "deviceAndAppManagementAssignmentFilterId": None,
                                                       "deviceAndAppManagementAssignmentFilterType": "none"})]
    entity.update(settings)
    tenant.add(CONFIGS, entity, replicate=False)


def seed_configs(tenant):
    unrestricted = {"platformBlocked": False, "personalDeviceEnrollmentBlocked": False, "osMinimumVersion": None,
                    "osMaximumVersion": None, "blockedManufacturers": [], "blockedSkus": []}
    _default_config(tenant, "deviceEnrollmentLimitConfiguration", "DefaultLimit", "limit", "All users",
                    "This is the default Device Limit Restriction applied with the lowest priority to all users "
                    "regardless of group membership.", "allLicensedUsersAssignmentTarget", limit=5)
    _default_config(tenant, "deviceEnrollmentPlatformRestrictionsConfiguration", "DefaultPlatformRestrictions",
                    "platformRestrictions", "All users",
                    "This is the default Device Type Restriction applied with the lowest priority to all users "
                    "regardless of group membership.", "allLicensedUsersAssignmentTarget",
                    **{p: dict(unrestricted) for p in PLATFORMS_BETA})
    _default_config(tenant, "deviceEnrollmentWindowsHelloForBusinessConfiguration", "DefaultWindowsHelloForBusiness",
                    "windowsHelloForBusiness", "All users and all devices",
                    "This is the default Windows Hello for Business configuration applied with the lowest priority "
                    "to all users regardless of group membership.", "allLicensedUsersAssignmentTarget",
                    pinMinimumLength=6, pinMaximumLength=127, pinUppercaseCharactersUsage="disallowed",
                    pinLowercaseCharactersUsage="disallowed", pinSpecialCharactersUsage="disallowed",
                    state="notConfigured", securityDeviceRequired=False, unlockWithBiometricsEnabled=True,
                    remotePassportEnabled=True, pinPreviousBlockCount=0, pinExpirationInDays=0,
                    enhancedBiometricsState="notConfigured", securityKeyForSignIn="notConfigured",
                    enhancedSignInSecurity=0)
    esp = dict(ESP_DEFAULTS)
    esp.update({"blockDeviceSetupRetryByUser": True, "customErrorMessage": "", "installProgressTimeoutInMinutes": 0})
    _default_config(tenant, ESP, "DefaultWindows10EnrollmentCompletionPageConfiguration", ESP, "All users and all devices",
                    "This is the default enrollment status screen configuration applied with the lowest priority to "
                    "all users and all devices regardless of group membership.", "allDevicesAssignmentTarget", **esp)


def seed(tenant):
    """A fresh tenant's Intune enrollment data (called by seed.py)."""
    seed_scope_tags(tenant)
    seed_filters(tenant)
    seed_apps(tenant)
    seed_configs(tenant)


def default_esp_id(tenant):
    return "%s_DefaultWindows10EnrollmentCompletionPageConfiguration" % tenant.tenant_id

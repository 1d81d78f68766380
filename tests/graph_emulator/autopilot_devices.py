"""Windows Autopilot devices: import records, registered device identities, the Entra device objects, settings/sync.

Sources (microsoftgraph/microsoft-graph-docs-contrib api-reference/beta and v1.0, the pages
intune-enrollment-importedwindowsautopilotdeviceidentity*.md, intune-enrollment-windowsautopilotdeviceidentity*.md and
intune-enrollment-windowsautopilotsettings*.md, unless named otherwise) and the emulator's choices:

* ``importedWindowsAutopilotDeviceIdentities`` (beta and v1.0): POST one record (201), ``import`` many (200 +
  ``{"value": [...]}``), GET list/by id, DELETE (204). A new record answers ``state`` =
  ``{deviceImportStatus: "unknown", deviceRegistrationId: "", deviceErrorCode: 0, deviceErrorName: ""}``
  (not in Microsoft's docs: a real answer in MSEndpointMgr/Intune issue #71); a ``state`` sent by the client is
  ignored. The ``importId`` sent is kept; with ``settings['keep_import_id']`` false it is replaced by the record id,
  as the same issue shows a real answer (the resource page does not say whether the service keeps the caller's
  value). The import is asynchronous (inferred from the status enum): ``unknown`` -> ``pending`` after half of
  ``settings['import_delay']`` (default 5 s of emulated time) -> ``complete`` or ``error`` after the whole delay. No
  batch size limit is documented for Graph (the portal's CSV takes 500 rows); none is enforced.
* The answer to a write (``import`` and the single POST). The one real answer on record (MSEndpointMgr/Intune issue
  71, a POST of one record by that repository's Upload-WindowsAutopilotDeviceInfo.ps1, which sent ``orderIdentifier``,
  ``serialNumber``, ``productKey: ""``, ``hardwareIdentifier`` and a ``state``) shows ``productKey`` and ``importId``
  holding the record's id and ``hardwareIdentifier`` empty (PowerShell prints null and "" alike; null is answered,
  as for a binary property without a value). With ``settings['import_answer_as_seen']`` (realistic) the answers have
  that shape; the record itself keeps what was sent (the hash decides the import), and a later GET shows it as
  stored (what a real GET shows is not on record). A client must correlate answers by ``id`` or ``serialNumber``.
* Errors (MicrosoftDocs/memdocs autopilot/add-devices.md; SupportArticles-docs import-windows-autopilot-device-csv-
  files-errors.md): 806 ``ZtdDeviceAlreadyAssigned`` (hash or serial already registered in this tenant, checked when
  the record completes, so the first of two uploads of one device wins); 808 ``ZtdDeviceAssignedToOtherTenant`` (the
  support article's spelling; memdocs writes ...AnotherTenant) for a device registered to another tenant, i.e. whose
  serial or hash is listed in ``settings['foreign_devices']`` (alias ``foreignDevices``) or in the entity set ``foreignAutopilotDevices``
  (entries with ``serialNumber`` and/or ``hardwareIdentifier``; plant them with the control API's seed);
  ``ZtdDeviceDuplicated`` for the second and later copies of one hash (or serial) inside one upload (the first is
  processed); ``InvalidZtdHardwareHash`` for a hash that is empty or not base64, and for a missing serial number
  (memdocs: "manufacturer and serial must be present" in the hash). Microsoft publishes no numbers for the last two:
  they answer ``deviceErrorCode`` 0 with the name set (clients must key on ``deviceImportStatus == "error"``).
* On completion the ``windowsAutopilotDeviceIdentity`` appears, its id is the device's ZTD id and the record's
  ``state.deviceRegistrationId``; the Entra ``device`` object is created in ``tenant.sets['devices']`` (v1.0 device
  resource: displayName = serial number, operatingSystem "Windows", physicalIds ``[ZTDId]:<id>``,
  ``[OrderId]:<group tag>`` when tagged, ``[PurchaseOrderId]:<po>`` when known). The import record stays until the
  client deletes it (records are "temporary" in the portal; Graph clients delete them). Microsoft's procedure is to
  run a sync after the import, after which the devices appear (MicrosoftDocs/memdocs autopilot/add-devices.md); how
  long after the record completes is not documented. ``settings['device_visible_delay']`` (default 0) keeps a new
  device out of lists and reads (404) for that many seconds after its record completed; it exists already (a second
  import of it is 806, its Entra device is there). ``settings['devices_listed_after_sync']`` (default false) models
  the same memdocs sentence strictly: a device is listed and readable only once a sync that started at or after its
  import record completed has itself ended (``sync_duration`` later); until then it is hidden as above. The exact rule
  is not documented (nothing says whether a sync already running, or the service's own periodic sync, also lists
  it); this is the emulator's choice, the strictest reading, so a client that needs its own sync is tested with it.
  The emulator runs no periodic sync of its own.
* ``windowsAutopilotDeviceIdentities``: beta full shape, v1.0 reduced shape
  (resources/intune-enrollment-windowsautopilotdeviceidentity.md of each). ``$filter`` supports only
  ``contains(serialNumber,'x')`` (maintainer reply in microsoftgraph/microsoft-graph-docs #9357); ``serialNumber
  eq 'x'`` is a 400 (microsoft-graph-docs-contrib #3693, msgraph-sdk-powershell #1260). With
  ``settings['serial_filter_hyphen_bug']`` true, ``contains`` with a hyphen is a 400 too, as reported in
  msgraph-sdk-powershell #2464 (off by default: whether the service still does it is unknown). The list page
  (intune-enrollment-windowsautopilotdeviceidentity-list.md) documents no query parameter at all; with
  ``settings['device_filter_unsupported']`` true every ``$filter`` on this set is a 400. DELETE (204) also removes the
  Entra device (see Deletion below). ``assignUserToDevice`` needs an existing Entra user (400 otherwise); ``addressableUserName`` is stored as
  sent, "" included (both parameters are "Not yet documented" in assignusertodevice.md; nothing says the service fills
  in a name). ``updateDeviceProperties`` takes the documented keys only; a group tag change rewrites the
  Entra device's ``[OrderId]`` physical id, so dynamic groups follow.
* ``deploymentProfileAssignmentStatus`` (beta): the effective profile of a device is, among the profiles that include
  it (a group assignment whose group holds the device's Entra object, or the ``assign`` action's deviceIds) and do
  not exclude it (an exclusion assignment wins over inclusions of the same profile), the oldest created one; only
  when none does, the oldest profile assigned to all devices (memdocs autopilot/profiles.md, "Autopilot profile
  priority"). Group membership is the processed one (directory.py: dynamic
  groups see a new device after ``membership_update_delay``), so a device is a member first, then Intune notices.
  The states (api-reference/beta/resources/intune-enrollment-windowsautopilotprofileassignmentstatus.md; the portal's
  "Unassigned", "Assigning", "Assigned" in memdocs autopilot/tutorial/includes/verify-autopilot-profile-assignment.md):
  ``notAssigned`` without an effective profile; ``pending`` ("Pending assignment") for
  ``settings['profile_assignment_delay']`` after the effective profile changed; then "assigned successfully in
  Intune", with ``deploymentProfileAssignedDateTime`` set (the zero date before): ``assignedUnkownSyncState`` (sic,
  the enum's spelling: "either in-sync or out of sync with Windows auto pilot program") for
  ``settings['profile_sync_delay']``, or ``assignedOutOfSync`` ("not in sync") instead when the Autopilot program still
  holds another profile for the device (its effective profile changed after an earlier one was in sync: a group tag
  or an assignment moved it); then ``assignedInSync``. The split of the field-reported total (about 15 minutes,
  MicrosoftDocs/IntuneDocs issue 2262) into the two delays is the emulator's choice; a profile whose settings change
  keeps its devices ``assignedInSync`` (nothing documents otherwise). ``intendedDeploymentProfile`` answers as soon as
  a profile is effective, ``deploymentProfile`` with the profile the Autopilot program holds (the previous one while
  out of sync, 404 before any). Membership is re-evaluated at each of this package's own changes (exact time), on
  every read of devices, and at most once per emulated second in the ticker for changes made elsewhere (group rules,
  members, processing delays); such a change is dated to the previous evaluation.
* Deletion. "The deletion process can take a few minutes to complete" (memdocs autopilot/add-devices.md); "The
  deregistration process might take some time ... Every few minutes select Refresh ... until the device is no longer
  present" (memdocs autopilot/includes/deregister-autopilot-device.md). With ``settings['device_deletion_delay']``
  (service seconds; realistic 180, best case 0: gone at once) a DELETE answers 204 and the device stays listed and
  readable, unchanged, for that long; then it goes, with its Entra device (the same page: Entra removes it
  "automatically ... if needed"), so dynamic groups keep it until then. Graph shows nothing of a deletion under way:
  the SDK schema of windowsAutopilotDeviceIdentity (beta and v1.0) has no property for it, so a client can only tell
  by having sent the DELETE itself, and waits until the device is no longer listed. A second DELETE meanwhile
  answers 204 again and changes nothing (the emulator's choice: the service documents none; a repeated DELETE of the
  same object succeeding keeps a retry harmless). The same page has the admin "Unassign user" before Delete; with
  ``settings['delete_refused_with_user']`` (realistic) a DELETE of a device with an assigned user is refused with
  Intune's generic 400 "An error has occurred" (the answer is not on record: the refusal is read from the page's
  order of steps).
* ``windowsAutopilotSettings`` + ``sync`` (beta): 204; 409 while a sync runs (``settings['sync_duration']`` seconds,
  default 10); 429 within ``settings['sync_min_interval']`` (default 600) seconds of the previous sync
  (api-reference/beta/api/intune-enrollment-windowsautopilotsettings-sync.md). The page mentions no Retry-After, so
  none is sent unless ``settings['sync_retry_after']`` is true (then the seconds left).
"""

import base64
import binascii
import copy
import re

from . import directory
from .autopilot_profiles import PROFILES, render_profile
from .core import GraphHTTPError, Response, bad_request, new_id, no_content, not_found, public, route
from .enrollment import READ, WRITE, ZERO_DATE, check_props, full_type, intune_error, unknown_property
from .odata import entity_response, list_response

IMPORTS = "importedWindowsAutopilotDeviceIdentities"
DEVICES = "windowsAutopilotDeviceIdentities"
SETTINGS = "windowsAutopilotSettings"
FOREIGN = "foreignAutopilotDevices"
IMPORT_BASE = "/deviceManagement/" + IMPORTS
DEVICE_BASE = "/deviceManagement/" + DEVICES
SETTINGS_BASE = "/deviceManagement/" + SETTINGS
RW = ("DeviceManagementServiceConfig.ReadWrite.All",)

IMPORT_TABLE = {"id": "str", "groupTag": "str", "serialNumber": "str", "productKey": "str", "importId": "str",
                "hardwareIdentifier": "str", "assignedUserPrincipalName": "str",
                "state": ("obj", {"deviceImportStatus": ("enum", ("unknown", "pending", "partial", "complete", "error")),
                                  "deviceRegistrationId": "str", "deviceErrorCode": "int", "deviceErrorName": "str"},
                          "importedWindowsAutopilotDeviceIdentityState")}
V1_DEVICE_KEYS = ("id", "groupTag", "purchaseOrderIdentifier", "serialNumber", "productKey", "manufacturer", "model",
                  "enrollmentState", "lastContactedDateTime", "addressableUserName", "userPrincipalName", "resourceName",
                  "skuNumber", "systemFamily", "azureActiveDirectoryDeviceId", "managedDeviceId", "displayName")
UPDATE_KEYS = {"userPrincipalName": "str", "addressableUserName": "str", "groupTag": "str", "displayName": "str",
               "deviceAccountUpn": "str", "deviceAccountPassword": "str", "deviceFriendlyName": "str"}
ERRORS = {  # name -> deviceErrorCode (only 806 and 808 are published)
    "ZtdDeviceAlreadyAssigned": 806, "ZtdDeviceAssignedToOtherTenant": 808,
    "ZtdDeviceDuplicated": 0, "InvalidZtdHardwareHash": 0,
}
MODELS = (("Microsoft Corporation", "Surface Laptop 5"), ("Dell Inc.", "Latitude 7440"), ("HP", "EliteBook 840 G10"),
          ("LENOVO", "ThinkPad T14 Gen 4"))
_CONTAINS_SERIAL = re.compile(r"^\s*contains\(\s*serialNumber\s*,\s*'((?:[^']|'')*)'\s*\)\s*$", re.I)


def _cache(tenant):
    """Per-tenant bookkeeping that can be rebuilt from the sets (so state files stay plain JSON)."""
    cache = tenant.__dict__.setdefault("_autopilot_cache", {})
    return cache


def _now(tenant):
    return tenant.clock.now()


def _setting(tenant, name, default):
    """A setting the emulator does not scale (a rule clients compute from dates, such as the 10-minute sync rule)."""
    value = tenant.settings.get(name)
    return float(default if value is None else value)


# --------------------------------------------------------------------------------------------------------------
# Import records
# --------------------------------------------------------------------------------------------------------------

def _hash_ok(value):
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        return len(base64.b64decode(value, validate=True)) > 0
    except (binascii.Error, ValueError):
        return False


def _render_import(entity):
    out = {k: v for k, v in entity.items() if k[0] != "_"}
    out["state"] = dict(entity["state"])
    return out


def _write_answer(tenant, entity):
    """A record as the answer to its POST shows it (module docstring: ``import_answer_as_seen``)."""
    out = _render_import(entity)
    if tenant.settings.get("import_answer_as_seen"):
        out.update(productKey=entity["id"], importId=entity["id"], hardwareIdentifier=None)
    return out


def _new_record(tenant, item, seq):
    check_props(item, IMPORT_TABLE, "importedWindowsAutopilotDeviceIdentity")
    now = _now(tenant)
    delay = tenant.delay("import_delay")
    record = {
        "@odata.type": full_type("importedWindowsAutopilotDeviceIdentity"), "id": new_id(),
        "groupTag": item.get("groupTag") or "", "serialNumber": item.get("serialNumber") or "",
        "productKey": item.get("productKey") or "", "importId": item.get("importId") or "",
        "hardwareIdentifier": item.get("hardwareIdentifier"),
        "assignedUserPrincipalName": item.get("assignedUserPrincipalName") or "",
        "state": {"@odata.type": "microsoft.graph.importedWindowsAutopilotDeviceIdentityState",
                  "deviceImportStatus": "unknown", "deviceRegistrationId": "", "deviceErrorCode": 0,
                  "deviceErrorName": ""},
        "_seq": seq, "_pending_at": now + delay / 2.0, "_due": now + delay,
    }
    if tenant.settings.get("keep_import_id", True) is False:
        record["importId"] = record["id"]  # as a real create answer showed it (MSEndpointMgr/Intune issue #71)
    if not record["serialNumber"].strip() or not _hash_ok(record["hardwareIdentifier"]):
        record["_verdict"] = "InvalidZtdHardwareHash"
    return record


def _schedule(tenant, record):
    cache = _cache(tenant)
    if cache.get("imports_of") is tenant.set(IMPORTS) and cache.get("next_due") is not None:
        cache["next_due"] = min(cache["next_due"], record["_pending_at"])
    else:
        cache.pop("imports_of", None)


def _add_records(tenant, items):
    records = tenant.set(IMPORTS)
    seq = max((r.get("_seq", 0) for r in records.values()), default=0)
    out, seen = [], set()
    for item in items:
        seq += 1
        record = _new_record(tenant, item, seq)
        if "_verdict" not in record:
            keys = {("hash", record["hardwareIdentifier"]), ("serial", record["serialNumber"].upper())}
            if keys & seen:
                record["_verdict"] = "ZtdDeviceDuplicated"
            seen |= keys
        out.append(record)
    for record in out:
        tenant.add(IMPORTS, record, replicate=False)
        _schedule(tenant, record)
    return out


def _foreign(tenant):
    serials, hashes = set(), set()
    planted = list(tenant.settings.get("foreign_devices") or []) + list(tenant.settings.get("foreignDevices") or [])
    for entry in planted + list(tenant.set(FOREIGN).values()):
        if isinstance(entry, str):
            serials.add(entry.upper())
            hashes.add(entry)
        elif isinstance(entry, dict):
            if entry.get("serialNumber"):
                serials.add(entry["serialNumber"].upper())
            if entry.get("hardwareIdentifier"):
                hashes.add(entry["hardwareIdentifier"])
    return serials, hashes


def _registered(tenant):
    serials, hashes = set(), set()
    for device in tenant.set(DEVICES).values():
        serials.add((device.get("serialNumber") or "").upper())
        if device.get("_hash"):
            hashes.add(device["_hash"])
    return serials, hashes


def _finish(record, name, registration_id=""):
    state = record["state"]
    state["deviceImportStatus"] = "error" if name else "complete"
    state["deviceErrorName"] = name or ""
    state["deviceErrorCode"] = ERRORS.get(name, 0) if name else 0
    state["deviceRegistrationId"] = registration_id


def _nothing_due(tenant, entities, owner, due_key):
    """True while the cache, filled for exactly ``entities`` (under ``owner``), says nothing is due yet."""
    cache = _cache(tenant)
    return cache.get(owner) is entities and (cache.get(due_key) is None or _now(tenant) < cache[due_key])


def import_tick(tenant):
    """Move due import records forward. O(1) until the next due time; one pass over the records when something is due."""
    records = tenant.set(IMPORTS)
    if _nothing_due(tenant, records, "imports_of", "next_due"):
        return
    cache = _cache(tenant)
    now = _now(tenant)
    open_records = [r for r in records.values() if r["state"]["deviceImportStatus"] in ("unknown", "pending")]
    due = sorted((r for r in open_records if r.get("_due", 0) <= now), key=lambda r: r.get("_seq", 0))
    for record in open_records:
        if record["state"]["deviceImportStatus"] == "unknown" and record.get("_pending_at", 0) <= now:
            record["state"]["deviceImportStatus"] = "pending"
    if due:
        registered_serials, registered_hashes = _registered(tenant)
        foreign_serials, foreign_hashes = _foreign(tenant)
        created = []
        for record in due:
            verdict = record.pop("_verdict", None)
            serial, hw = record["serialNumber"].upper(), record["hardwareIdentifier"]
            if verdict is None and (serial in foreign_serials or hw in foreign_hashes):
                verdict = "ZtdDeviceAssignedToOtherTenant"
            if verdict is None and (serial in registered_serials or hw in registered_hashes):
                verdict = "ZtdDeviceAlreadyAssigned"
            if verdict:
                _finish(record, verdict)
                continue
            device = _register(tenant, record)
            visible_delay = tenant.delay("device_visible_delay")
            if visible_delay > 0:  # listed (and readable) only this long after the import completed
                device["_visible_at"] = record["_due"] + visible_delay
            if tenant.settings.get("devices_listed_after_sync"):
                _await_sync(tenant, device, record["_due"])
            registered_serials.add(serial)
            registered_hashes.add(hw)
            _finish(record, None, device["id"])
            created.append((device, record["_due"]))
        if created:
            pick = _effective(tenant)
            for device, registered_at in created:  # dated to when the import completed, not to this tick
                device["_intended"] = pick(device)
                device["_since"] = registered_at if device["_intended"] else None
    pending = [r for r in records.values() if r["state"]["deviceImportStatus"] in ("unknown", "pending")]
    cache["imports_of"] = records
    cache["next_due"] = min((r["_pending_at"] if r["state"]["deviceImportStatus"] == "unknown" else r["_due"]
                             for r in pending), default=None)


# --------------------------------------------------------------------------------------------------------------
# Registered devices and their Entra objects
# --------------------------------------------------------------------------------------------------------------

def _physical_ids(device):
    ids = ["[ZTDId]:%s" % device["id"]]
    if device.get("groupTag"):
        ids.append("[OrderId]:%s" % device["groupTag"])
    if device.get("purchaseOrderIdentifier"):
        ids.append("[PurchaseOrderId]:%s" % device["purchaseOrderIdentifier"])
    return ids


def _register(tenant, record):
    """Create the windowsAutopilotDeviceIdentity and its Entra device for a completed import record."""
    now_iso = tenant.clock.iso()
    ztd_id = new_id()
    entra_device_id = new_id()
    manufacturer, model = MODELS[sum(record["serialNumber"].encode()) % len(MODELS)]
    device = {
        "@odata.type": full_type("windowsAutopilotDeviceIdentity"), "id": ztd_id,
        "deploymentProfileAssignmentStatus": "notAssigned", "deploymentProfileAssignmentDetailedStatus": "none",
        "deploymentProfileAssignedDateTime": ZERO_DATE, "groupTag": record["groupTag"],
        "purchaseOrderIdentifier": "", "serialNumber": record["serialNumber"], "productKey": record["productKey"],
        "manufacturer": manufacturer, "model": model, "enrollmentState": "notContacted",
        "lastContactedDateTime": ZERO_DATE, "addressableUserName": "",
        "userPrincipalName": record.get("assignedUserPrincipalName") or "", "resourceName": "", "skuNumber": "",
        "systemFamily": "", "azureActiveDirectoryDeviceId": entra_device_id, "azureAdDeviceId": entra_device_id,
        "managedDeviceId": "00000000-0000-0000-0000-000000000000", "displayName": "", "deviceAccountUpn": None,
        "deviceAccountPassword": None, "deviceFriendlyName": None, "remediationState": "unknown",
        "remediationStateLastModifiedDateTime": ZERO_DATE, "userlessEnrollmentStatus": "unknown",
        "_hash": record["hardwareIdentifier"], "_intended": None, "_since": None,
    }
    entra = {
        "@odata.type": full_type("device"), "id": new_id(), "deviceId": entra_device_id, "accountEnabled": True,
        "displayName": record["serialNumber"], "operatingSystem": "Windows", "operatingSystemVersion": "10.0.0.0",
        "physicalIds": _physical_ids(device), "manufacturer": manufacturer, "model": model,
        "approximateLastSignInDateTime": None, "complianceExpirationDateTime": None, "deviceMetadata": None,
        "deviceVersion": 2, "isCompliant": None, "isManaged": None, "mdmAppId": None, "onPremisesLastSyncDateTime": None,
        "onPremisesSyncEnabled": None, "profileType": "RegisteredDevice", "registrationDateTime": now_iso,
        "systemLabels": [], "trustType": None, "enrollmentProfileName": None, "enrollmentType": None,
        "deviceOwnership": "Company", "managementType": None, "alternativeSecurityIds": [],
    }
    device["_entra_id"] = entra["id"]
    tenant.add("devices", entra)
    directory.object_changed(tenant, entra, None, when=record["_due"])
    tenant.add(DEVICES, device, replicate=False)
    return device


HIDDEN = 253402300799.0  # 9999-12-31: ``_visible_at`` of a device that waits for a sync (JSON-safe, unlike inf)


def _await_sync(tenant, device, completed_at):
    """``devices_listed_after_sync``: list ``device`` when a sync that started at or after ``completed_at`` has ended."""
    ends = [end for start, end in _settings(tenant).get("_syncs", ()) if start >= completed_at]
    if ends:
        device["_visible_at"] = max(device.get("_visible_at", 0), min(ends))
    else:
        device["_awaiting_sync"] = completed_at
        device["_listed_from"] = device.get("_visible_at", 0)  # device_visible_delay still applies
        device["_visible_at"] = HIDDEN


def _reveal_after_sync(tenant, start, end):
    """A sync started at ``start`` lists, when it ends, the devices whose import completed before it started."""
    for device in tenant.set(DEVICES).values():
        if device.get("_awaiting_sync") is not None and device["_awaiting_sync"] <= start:
            device["_visible_at"] = max(device.pop("_listed_from", 0), end)
            device.pop("_awaiting_sync")


def _device(tenant, device_id):
    device = tenant.get(DEVICES, device_id)
    if device is None or device.get("_visible_at", 0) > _now(tenant):
        raise not_found(DEVICES, device_id)
    return device


def _entra(tenant, device):
    return tenant.get("devices", device.get("_entra_id"))


def _effective(tenant):
    """A function device -> id of its effective profile (or None), computed over the current state: the oldest of
    the profiles that apply to the device through a group or the ``assign`` action, else the oldest of those
    assigned to all devices (memdocs autopilot/profiles.md, "Autopilot profile priority": the default profile, "any
    Autopilot profile assigned to all devices", is applied "If no other profile is applicable to the device")."""
    profiles = sorted(tenant.set(PROFILES).values(), key=lambda p: (p.get("_created", 0), p.get("_seq", 0)))
    members = {}

    def group(gid):
        if gid not in members:
            members[gid] = set(directory.member_ids(tenant, gid)) if tenant.get("groups", gid) is not None else set()
        return members[gid]

    def applies(profile, device):
        """``(by a group or directly, by all devices)`` for one profile; an exclusion cancels both."""
        object_id = device.get("_entra_id")
        direct = device["id"] in profile.get("_device_ids", ())
        everyone = False
        for assignment in profile.get("_assignments", {}).values():
            target = assignment["target"]
            kind = target["@odata.type"].rsplit(".", 1)[-1]
            if kind == "exclusionGroupAssignmentTarget" and object_id in group(target["groupId"]):
                return False, False
            if kind == "groupAssignmentTarget":
                direct = direct or object_id in group(target["groupId"])
            elif kind == "allDevicesAssignmentTarget":
                everyone = True
        return direct, everyone

    def pick(device):
        fallback = None
        for profile in profiles:
            direct, everyone = applies(profile, device)
            if direct:
                return profile["id"]
            if everyone and fallback is None:
                fallback = profile["id"]
        return fallback

    return pick


def refresh(tenant, since=None, devices=None):
    """Re-evaluate the effective profile of ``devices`` (default: all); a change is dated ``since`` (default: now)."""
    cache = _cache(tenant)
    now = _now(tenant)
    when = now if since is None else since
    pick = _effective(tenant)
    for device in (tenant.set(DEVICES).values() if devices is None else devices):
        intended = pick(device)
        if intended != device.get("_intended"):
            device["_held"] = _status(tenant, device, when)[2]  # what the Autopilot program holds meanwhile
            device["_intended"] = intended
            device["_since"] = when if intended else None
    if devices is None:
        cache["last_refresh"] = now


def profile_tick(tenant):
    """At most once per emulated second, catch membership changes made outside this module."""
    cache = _cache(tenant)
    now = _now(tenant)
    last = cache.get("last_refresh")
    if last is None or now - last >= 1.0:
        if tenant.set(DEVICES):
            refresh(tenant, since=last)
        else:
            cache["last_refresh"] = now


def _refresh_on_read(tenant):
    cache = _cache(tenant)
    refresh(tenant, since=cache.get("last_refresh"))


def _status(tenant, device, when=None):
    """(status, assigned date, id of the profile the Autopilot program holds) of a device at ``when`` (default now),
    from its effective profile and the two delays (module docstring)."""
    when = _now(tenant) if when is None else when
    intended = device.get("_intended")
    held = device.get("_held")
    if held is not None and tenant.get(PROFILES, held) is None:
        held = None
    if not intended or tenant.get(PROFILES, intended) is None:
        return "notAssigned", ZERO_DATE, None
    assigned = (device.get("_since") or 0) + tenant.delay("profile_assignment_delay")
    if when < assigned:
        return "pending", ZERO_DATE, held
    if when < assigned + tenant.delay("profile_sync_delay"):
        return ("assignedOutOfSync" if held else "assignedUnkownSyncState"), tenant.clock.iso(assigned), held
    return "assignedInSync", tenant.clock.iso(assigned), intended


def render_device(req, tenant, device):
    out = {k: v for k, v in device.items() if k[0] != "_"}  # flat values only: a shallow copy is enough
    if req.version == "v1.0":
        return dict({"@odata.type": out["@odata.type"]}, **{k: out.get(k) for k in V1_DEVICE_KEYS})
    status, assigned, _profile = _status(tenant, device)
    out["deploymentProfileAssignmentStatus"] = status
    out["deploymentProfileAssignedDateTime"] = assigned
    return out


def list_for_profile(req, tenant, profile_id):
    _refresh_on_read(tenant)
    items = [render_device(req, tenant, d) for d in tenant.listed(DEVICES) if d.get("_intended") == profile_id]
    return list_response(req, tenant, items)


def _set_group_tag(tenant, device, tag):
    device["groupTag"] = tag
    entra = _entra(tenant, device)
    if entra is not None:
        directory.object_changed(tenant, entra, public(entra))
        entra["physicalIds"] = [p for p in entra.get("physicalIds", []) if not p.lower().startswith("[orderid]:")]
        if tag:
            entra["physicalIds"].append("[OrderId]:%s" % tag)


def _user(req, tenant, upn):
    user = directory.find_user(tenant, upn) if upn else None
    if user is None:
        raise intune_error(req, "User '%s' was not found in the directory." % upn)
    return user


# --------------------------------------------------------------------------------------------------------------
# Routes: imported device identities
# --------------------------------------------------------------------------------------------------------------

@route("POST", IMPORT_BASE + "/import", permissions=RW)
def import_devices(req, tenant):
    body = req.json_body()
    for key in body:
        if key != "importedWindowsAutopilotDeviceIdentities":
            raise unknown_property(key, "import")
    items = body.get("importedWindowsAutopilotDeviceIdentities")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise bad_request("The parameter 'importedWindowsAutopilotDeviceIdentities' is required and must be a "
                          "collection of objects.")
    for item in items:
        check_props(item, IMPORT_TABLE, "importedWindowsAutopilotDeviceIdentity")
    records = _add_records(tenant, items)
    body = {"@odata.context": "https://graph.microsoft.com/%s/$metadata#Collection(microsoft.graph.importedWindowsAutopilotDeviceIdentity)"
            % req.version, "value": [_write_answer(tenant, r) for r in records]}
    return Response(200, body)


@route("POST", IMPORT_BASE, permissions=RW)
def create_import(req, tenant):
    record = _add_records(tenant, [req.json_body()])[0]
    return entity_response(req, _write_answer(tenant, record), context=req.path.strip("/"), status=201)


@route("GET", IMPORT_BASE, permissions=READ)
def list_imports(req, tenant):
    items = sorted(tenant.set(IMPORTS).values(), key=lambda r: r.get("_seq", 0))
    return list_response(req, tenant, [_render_import(r) for r in items])


@route("GET", IMPORT_BASE + "/{record_id}", permissions=READ)
def get_import(req, tenant, record_id):
    record = tenant.get(IMPORTS, record_id)
    if record is None:
        raise not_found(IMPORTS, record_id)
    return entity_response(req, _render_import(record))


@route("DELETE", IMPORT_BASE + "/{record_id}", permissions=WRITE)
def delete_import(req, tenant, record_id):
    if tenant.remove(IMPORTS, record_id) is None:
        raise not_found(IMPORTS, record_id)
    return no_content()


# --------------------------------------------------------------------------------------------------------------
# Routes: registered devices
# --------------------------------------------------------------------------------------------------------------

@route("GET", DEVICE_BASE, permissions=READ)
def list_devices(req, tenant):
    _refresh_on_read(tenant)
    devices = list(tenant.listed(DEVICES))
    raw = req.query.get("$filter")
    if raw is not None:
        found = _CONTAINS_SERIAL.match(raw)
        if not found or tenant.settings.get("device_filter_unsupported"):
            raise intune_error(req, "An error has occurred")
        needle = found.group(1).replace("''", "'").lower()
        if "-" in needle and tenant.settings.get("serial_filter_hyphen_bug"):
            raise intune_error(req, "An error has occurred")
        devices = [d for d in devices if needle in (d.get("serialNumber") or "").lower()]
        req = _without(req, "$filter")
    return list_response(req, tenant, [render_device(req, tenant, d) for d in devices], filter_ops=set())


def _without(req, option):
    clone = copy.copy(req)
    clone.query = {k: v for k, v in req.query.items() if k != option}
    return clone


@route("GET", DEVICE_BASE + "/{device_id}", permissions=READ)
def get_device(req, tenant, device_id):
    device = _device(tenant, device_id)
    refresh(tenant, since=_cache(tenant).get("last_refresh"), devices=[device])
    return entity_response(req, render_device(req, tenant, device))


@route("DELETE", DEVICE_BASE + "/{device_id}", permissions=RW)
def delete_device(req, tenant, device_id):
    device = _device(tenant, device_id)
    if device.get("_deleting_until") is not None:
        return no_content()  # a deletion is under way: nothing changes (module docstring)
    if device.get("userPrincipalName") and tenant.settings.get("delete_refused_with_user"):
        raise intune_error(req, "An error has occurred")
    delay = tenant.delay("device_deletion_delay")
    if delay <= 0:
        _remove_device(tenant, device)
    else:
        device["_deleting_until"] = _now(tenant) + delay
        _cache(tenant).pop("deletions_of", None)
    return no_content()


def _remove_device(tenant, device):
    tenant.remove(DEVICES, device["id"])
    if device.get("_entra_id"):
        tenant.remove("devices", device["_entra_id"])
    for profile in tenant.set(PROFILES).values():
        if device["id"] in profile.get("_device_ids", ()):
            profile["_device_ids"].remove(device["id"])


def deletion_tick(tenant):
    """Finish the deletions whose time has come. O(1) until the next one is due."""
    devices = tenant.set(DEVICES)
    if _nothing_due(tenant, devices, "deletions_of", "next_deletion"):
        return
    cache = _cache(tenant)
    now = _now(tenant)
    for device in [d for d in devices.values() if d.get("_deleting_until") is not None and d["_deleting_until"] <= now]:
        _remove_device(tenant, device)
    cache["deletions_of"] = devices
    cache["next_deletion"] = min((d["_deleting_until"] for d in devices.values() if d.get("_deleting_until") is not None),
                                 default=None)


@route("POST", DEVICE_BASE + "/{device_id}/assignUserToDevice", permissions=RW)
def assign_user(req, tenant, device_id):
    device = _device(tenant, device_id)
    body = req.json_body()
    check_props(body, {"userPrincipalName": "str", "addressableUserName": "str"}, "assignUserToDevice")
    user = _user(req, tenant, body.get("userPrincipalName"))
    device["userPrincipalName"] = user.get("userPrincipalName") or body["userPrincipalName"]
    device["addressableUserName"] = body.get("addressableUserName") or ""  # kept as sent (see the module docstring)
    return no_content()


@route("POST", DEVICE_BASE + "/{device_id}/unassignUserFromDevice", permissions=RW)
def unassign_user(req, tenant, device_id):
    device = _device(tenant, device_id)
    if isinstance(req.body, dict) and req.body:
        raise bad_request("unassignUserFromDevice takes no parameters.")
    device["userPrincipalName"] = ""
    device["addressableUserName"] = ""
    return no_content()


@route("POST", DEVICE_BASE + "/{device_id}/updateDeviceProperties", permissions=RW)
def update_properties(req, tenant, device_id):
    device = _device(tenant, device_id)
    body = req.json_body()
    check_props(body, UPDATE_KEYS, "updateDeviceProperties")
    if body.get("userPrincipalName"):
        user = _user(req, tenant, body["userPrincipalName"])
        device["userPrincipalName"] = user.get("userPrincipalName") or body["userPrincipalName"]
    elif "userPrincipalName" in body:
        device["userPrincipalName"] = ""
    for key in ("addressableUserName", "displayName", "deviceAccountUpn", "deviceAccountPassword", "deviceFriendlyName"):
        if key in body:
            device[key] = body[key] if body[key] is not None else ""
    if "groupTag" in body and (body["groupTag"] or "") != device.get("groupTag"):
        refresh(tenant, since=_cache(tenant).get("last_refresh"))  # date earlier changes before this one
        _set_group_tag(tenant, device, body["groupTag"] or "")
        refresh(tenant)
    return no_content()


def _profile_nav(req, tenant, device_id, which):
    device = _device(tenant, device_id)
    refresh(tenant, since=_cache(tenant).get("last_refresh"), devices=[device])
    _status_now, _assigned, held = _status(tenant, device)
    profile_id = device.get("_intended") if which == "intendedDeploymentProfile" else held
    profile = tenant.get(PROFILES, profile_id) if profile_id else None
    if profile is None:
        raise not_found(which, device_id)
    return entity_response(req, render_profile(profile),
                           context="deviceManagement/windowsAutopilotDeploymentProfiles")


@route("GET", DEVICE_BASE + "/{device_id}/deploymentProfile", versions=("beta",), permissions=READ)
def get_deployment_profile(req, tenant, device_id):
    return _profile_nav(req, tenant, device_id, "deploymentProfile")


@route("GET", DEVICE_BASE + "/{device_id}/intendedDeploymentProfile", versions=("beta",), permissions=READ)
def get_intended_profile(req, tenant, device_id):
    return _profile_nav(req, tenant, device_id, "intendedDeploymentProfile")


# --------------------------------------------------------------------------------------------------------------
# windowsAutopilotSettings and sync
# --------------------------------------------------------------------------------------------------------------

def _settings(tenant):
    entities = tenant.set(SETTINGS)
    if not entities:
        entity = {"@odata.type": full_type("windowsAutopilotSettings"), "id": tenant.tenant_id,
                  "lastSyncDateTime": ZERO_DATE, "lastManualSyncTriggerDateTime": ZERO_DATE, "syncStatus": "unknown"}
        tenant.add(SETTINGS, entity, replicate=False)
    entity = next(iter(entities.values()))
    until = entity.get("_sync_until")
    if until is not None and _now(tenant) >= until:
        entity["syncStatus"] = "completed"
        entity["lastSyncDateTime"] = tenant.clock.iso(until)
        entity.pop("_sync_until")
    return entity


def sync_tick(tenant):
    entities = tenant.set(SETTINGS)
    if entities and any("_sync_until" in e for e in entities.values()):
        _settings(tenant)


@route("GET", SETTINGS_BASE, versions=("beta",), permissions=READ)
def get_settings(req, tenant):
    entity = _settings(tenant)
    return entity_response(req, {k: v for k, v in entity.items() if not k.startswith("_")},
                           context="deviceManagement/windowsAutopilotSettings")


@route("POST", SETTINGS_BASE + "/sync", versions=("beta",), permissions=WRITE)
def sync(req, tenant):
    entity = _settings(tenant)
    now = _now(tenant)
    if "_sync_until" in entity:
        raise GraphHTTPError(409, "Conflict", "A sync is already in progress.")
    last = entity.get("_last_trigger")
    interval = _setting(tenant, "sync_min_interval", 600)
    if last is not None and now - last < interval:
        wait = int(interval - (now - last)) + 1
        headers = {"Retry-After": str(wait)} if tenant.settings.get("sync_retry_after", False) else {}
        raise intune_error(req, "Too many requests: a sync was triggered less than %d seconds ago." % int(interval),
                           status=429, code="TooManyRequests", headers=headers)
    entity["_last_trigger"] = now
    entity["_sync_until"] = now + tenant.delay("sync_duration")
    entity["_syncs"] = (entity.get("_syncs") or [])[-19:] + [[now, entity["_sync_until"]]]
    if tenant.settings.get("devices_listed_after_sync"):
        _reveal_after_sync(tenant, now, entity["_sync_until"])
    entity["syncStatus"] = "inProgress"
    entity["lastManualSyncTriggerDateTime"] = tenant.clock.iso(now)
    return no_content()


def register(tenant):
    """Install the tickers (idempotent; also after a state load)."""
    for ticker in (import_tick, profile_tick, sync_tick, deletion_tick):
        if ticker not in tenant.tickers:
            tenant.tickers.append(ticker)


def seed(tenant):
    register(tenant)
    _settings(tenant)

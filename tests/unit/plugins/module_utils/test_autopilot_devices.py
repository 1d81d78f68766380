# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the pure parts of _autopilot_devices: CSV, validation, planning, result shaping,
and of DeviceSync against a small in-memory fake of the Graph client (no network)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import codecs
import hashlib
import os
import time

import pytest

from ansible_collections.intune.autopilot.plugins.module_utils import _autopilot_device_graph as graph
from ansible_collections.intune.autopilot.plugins.module_utils import _autopilot_device_input as inp
from ansible_collections.intune.autopilot.plugins.module_utils import _autopilot_device_plan as plan_mod
from ansible_collections.intune.autopilot.plugins.module_utils import _autopilot_sync as sync_mod
from ansible_collections.intune.autopilot.plugins.module_utils._autopilot_device_run import DeviceRun
from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import EngineError
from ansible_collections.intune.autopilot.plugins.module_utils._graph_client import GraphError


def hwid(seed, size=64):
    """A well-formed hash: base64 of ``size`` bytes derived from ``seed``."""
    raw = (hashlib.sha256(seed.encode()).digest() * (size // 32 + 1))[:size]
    return base64.b64encode(raw).decode()


def params(**kw):
    base = {"serial_number": None, "hardware_identifier": None, "product_key": None, "group_tag": None,
            "assigned_user": None, "addressable_user_name": None, "display_name": None, "state": "present",
            "devices": None, "csv_path": None, "batch_size": 100, "wait": True, "wait_timeout": 60,
            "wait_for": "imported", "poll_interval": 1, "fail_on_error": True, "sync": True,
            "cleanup_import_records": True, "check_mode_missing": "fail"}
    base.update(kw)
    return base


# -- hashes, UPNs -----------------------------------------------------------------------------

def test_check_hash_strips_whitespace_and_accepts_base64():
    value = hwid("A")
    assert inp.check_hash(value[:10] + "\n " + value[10:], "x") == value


@pytest.mark.parametrize("bad, words", [
    ("not base64!!", "not valid base64: character '!' at position 10 (whitespace not counted)"),
    ("", "empty"),
    (base64.b64encode(b"short").decode(), "decodes to 5 bytes"),
    ("QUJD", "decodes to 3 bytes"),
    ("QUJDRA", "not valid base64: its length or padding is wrong (6 characters)"),  # missing padding
])
def test_check_hash_refuses(bad, words):
    with pytest.raises(EngineError) as err:
        inp.check_hash(bad, "devices[2] (serial 'S1')")
    assert words in str(err.value)
    assert "devices[2] (serial 'S1')" in str(err.value)


@pytest.mark.parametrize("upn, ok", [
    ("anna@contoso.com", True), ("a.b@contoso.onmicrosoft.com", True), ("", True),
    ("anna", False), ("anna@contoso", False), ("an na@contoso.com", False), ("a@@b.com", False),
])
def test_check_upn(upn, ok):
    if ok:
        assert inp.check_upn(upn, "w") == upn
    else:
        with pytest.raises(EngineError, match="not a user principal name"):
            inp.check_upn(upn, "w")


def test_filterable_serial():
    assert graph.filterable_serial("PF12ABC9")
    assert not graph.filterable_serial("PF-12")
    assert not graph.filterable_serial("A'B")
    assert not graph.filterable_serial("")


# -- CSV -----------------------------------------------------------------------------------

HEADER = "Device Serial Number,Windows Product ID,Hardware Hash,Group Tag,Assigned User"


def test_parse_csv_standard_file():
    text = "\r\n".join([HEADER, "S1,,%s,Kiosk,anna@contoso.com" % hwid("1"), "S2,PK2,%s,," % hwid("2"), ""])
    rows, warnings = inp.parse_csv(text.encode(), "f.csv")
    assert warnings == []
    assert rows == [
        {"where": "f.csv line 2", "serial_number": "S1", "hardware_identifier": hwid("1"), "group_tag": "Kiosk",
         "assigned_user": "anna@contoso.com"},
        {"where": "f.csv line 3", "serial_number": "S2", "product_key": "PK2", "hardware_identifier": hwid("2")},
    ]


def test_parse_csv_quirks_bom_case_spacing_quotes_utf16():
    text = "\r\n".join(["device serial number, WINDOWS PRODUCT ID ,hardware_hash,group tag",
                        '"S1","","%s","Tag, with comma"' % hwid("1"), "", "S2,,%s," % hwid("2")])
    for data in (codecs.BOM_UTF8 + text.encode(), codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
                 text.encode("utf-16")):
        rows, dummy = inp.parse_csv(data, "f.csv")
        assert [r["serial_number"] for r in rows] == ["S1", "S2"]
        assert rows[0]["group_tag"] == "Tag, with comma"
        assert rows[1]["where"] == "f.csv line 4"  # the blank line still counts


def test_parse_csv_ignores_unknown_columns_with_warning():
    rows, warnings = inp.parse_csv("Device Serial Number,Hardware Hash,Manufacturer name\nS1,%s,Contoso\n" % hwid("1"))
    assert rows[0]["serial_number"] == "S1" and "Manufacturer name" in warnings[0]


def test_parse_csv_missing_headers_names_line_and_columns():
    with pytest.raises(EngineError) as err:
        inp.parse_csv("S1,,%s\n" % hwid("1"), "f.csv")
    assert "f.csv line 1" in str(err.value)
    assert "'Device Serial Number'" in str(err.value) and "'Hardware Hash'" in str(err.value)


def test_parse_csv_reports_every_bad_line():
    text = "\n".join([HEADER, ",,%s" % hwid("1"), "S2,,", "S3,,@@@@", "S4,,%s,,bob" % hwid("4"), "S5,,%s" % hwid("5")])
    with pytest.raises(EngineError) as err:
        inp.parse_csv(text, "f.csv")
    problems = err.value.extra["problems"]
    assert len(problems) == 4
    assert "f.csv line 2: the Device Serial Number is empty" in problems[0]
    assert "f.csv line 3" in problems[1] and "'S2' has no Hardware Hash" in problems[1]
    assert "f.csv line 4" in problems[2] and "not valid base64" in problems[2]
    assert "f.csv line 5" in problems[3] and "not a user principal name" in problems[3]


def test_parse_csv_empty_file():
    with pytest.raises(EngineError, match="empty"):
        inp.parse_csv(b"\r\n\r\n", "f.csv")


# -- merging inputs ------------------------------------------------------------------------

def test_collect_specs_merges_forms_and_applies_group_tag_default():
    rows, dummy = inp.parse_csv("%s\nS3,,%s,CsvTag\nS4,,%s\n" % (HEADER, hwid("3"), hwid("4")), "f.csv")
    specs = inp.collect_specs(params(group_tag="Default", devices=[
        {"serial_number": "S1", "hardware_identifier": hwid("1")},
        {"serial_number": "S2", "hardware_identifier": hwid("2"), "group_tag": ""},
    ]), rows)
    assert [(s["serial_number"], s.get("group_tag")) for s in specs] == [
        ("S1", "Default"), ("S2", ""), ("S3", "CsvTag"), ("S4", "Default")]
    assert all(s["state"] == "present" for s in specs)


def test_collect_specs_single_device():
    specs = inp.collect_specs(params(serial_number=" S1 ", hardware_identifier=hwid("1"), group_tag="T", state="absent"))
    assert specs == [{"where": "serial_number ' S1 '", "serial_number": "S1", "hardware_identifier": hwid("1"),
                      "group_tag": "T", "state": "absent"}]


def test_collect_specs_same_serial_twice_identical_is_used_once():
    item = {"serial_number": "S1", "hardware_identifier": hwid("1")}
    assert len(inp.collect_specs(params(devices=[item, dict(item)]))) == 1


def test_collect_specs_same_serial_different_hash_names_both_places():
    rows, dummy = inp.parse_csv("%s\ns1,,%s\n" % (HEADER, hwid("9")), "f.csv")
    with pytest.raises(EngineError) as err:
        inp.collect_specs(params(devices=[{"serial_number": "S1", "hardware_identifier": hwid("1")}]), rows)
    msg = str(err.value)
    assert "'s1' is given twice with different hardware hashes" in msg
    assert "devices[0]" in msg and "f.csv line 2" in msg


def test_collect_specs_empty_serial_and_user_not_upn_and_bad_hash():
    with pytest.raises(EngineError) as err:
        inp.collect_specs(params(devices=[
            {"serial_number": "  ", "hardware_identifier": hwid("1")},
            {"serial_number": "S2", "hardware_identifier": hwid("2"), "assigned_user": "bob"},
            {"serial_number": "S3", "hardware_identifier": "%%%"},
        ]))
    problems = err.value.extra["problems"]
    assert problems[0] == "devices[0]: the serial number is empty"
    assert "devices[1] (serial 'S2')" in problems[1] and "not a user principal name" in problems[1]
    assert "devices[2] (serial 'S3')" in problems[2] and "not valid base64" in problems[2]


def test_collect_specs_duplicate_hash_under_two_serials():
    with pytest.raises(EngineError, match="ZtdDeviceDuplicated"):
        inp.collect_specs(params(devices=[{"serial_number": "S1", "hardware_identifier": hwid("1")},
                                          {"serial_number": "S2", "hardware_identifier": hwid("1")}]))


def test_collect_specs_addressable_name_needs_user():
    with pytest.raises(EngineError, match="addressable_user_name needs assigned_user"):
        inp.collect_specs(params(serial_number="S1", addressable_user_name="Anna"))


# -- planning ------------------------------------------------------------------------------

def device(serial, **kw):
    d = {"id": "id-" + serial, "serialNumber": serial, "groupTag": "", "displayName": None,
         "userPrincipalName": "", "addressableUserName": None, "deploymentProfileAssignmentStatus": "notAssigned"}
    d.update(kw)
    return d


def spec(serial, **kw):
    s = {"serial_number": serial, "state": "present", "where": "devices[0]"}
    s.update(kw)
    return s


def test_plan_actions():
    index = plan_mod.index_devices([device("S1", groupTag="Old"), device("S2", groupTag="T"), device("S4"),
                                    device("S6"), device("S6", id="id-S6b")])
    plan = plan_mod.plan_devices([
        spec("s1", group_tag="New"), spec("S2", group_tag="T"), spec("S3", hardware_identifier=hwid("3")),
        spec("S4", state="absent"), spec("S5", state="absent"), spec("S7"), spec("S6", group_tag="X"),
    ], index)
    assert [e.action for e in plan] == ["update", "unchanged", "import", "delete", "absent", "failed", "failed"]
    assert plan[0].changes == {"group_tag": {"before": "Old", "after": "New"}}
    assert "not registered and no hardware_identifier" in plan[5].error[2]
    assert "registered 2 times" in plan[6].error[2]


def test_check_mode_assumes_an_earlier_task_imports_an_unregistered_serial():
    plan = plan_mod.plan_devices([spec("S7", assigned_user="anna@contoso.com")], {}, check_mode=True)
    assert plan[0].action == "update" and plan[0].assumed is True
    assert plan[0].changes == {"assigned_user": {"before": "", "after": "anna@contoso.com"}}
    # the same spec in a real run cannot be planned
    assert plan_mod.plan_devices([spec("S7", assigned_user="anna@contoso.com")], {})[0].action == "failed"


def test_device_changes_user_rules():
    dev = device("S1", userPrincipalName="Anna@Contoso.com", addressableUserName="Anna")
    assert plan_mod.device_changes(spec("S1", assigned_user="anna@contoso.com"), dev) == {}
    assert plan_mod.device_changes(spec("S1", assigned_user=""), dev) == {
        "assigned_user": {"before": "Anna@Contoso.com", "after": ""}}
    assert plan_mod.device_changes(spec("S1", assigned_user="anna@contoso.com", addressable_user_name="Anna B"), dev) == {
        "addressable_user_name": {"before": "Anna", "after": "Anna B"}}
    assert plan_mod.device_changes(spec("S1", display_name="PC-1"), dev) == {"display_name": {"before": "", "after": "PC-1"}}
    # settings the spec does not set are never compared
    assert plan_mod.device_changes(spec("S1"), device("S1", groupTag="Any", displayName="X")) == {}


def test_update_requests_shapes():
    s = spec("S1", group_tag="T", display_name="PC", assigned_user="a@b.com", addressable_user_name="A")
    calls = plan_mod.update_requests("id1", s, {"group_tag": 1, "display_name": 1, "assigned_user": 1})
    assert calls == [
        {"method": "POST", "url": "/deviceManagement/windowsAutopilotDeviceIdentities/id1/updateDeviceProperties",
         "body": {"groupTag": "T", "displayName": "PC"}, "repeatable": True},
        {"method": "POST", "url": "/deviceManagement/windowsAutopilotDeviceIdentities/id1/assignUserToDevice",
         "body": {"userPrincipalName": "a@b.com", "addressableUserName": "A"}, "repeatable": True},
    ]
    assert plan_mod.update_requests("id1", spec("S1", assigned_user=""), {"assigned_user": 1}) == [
        {"method": "POST", "url": "/deviceManagement/windowsAutopilotDeviceIdentities/id1/unassignUserFromDevice", "body": {},
         "repeatable": True}]  # a write inside $batch needs a body (json-batching.md): {} for an action without parameters


def test_import_record_only_sets_given_fields():
    assert plan_mod.import_record(spec("S1", hardware_identifier="QQ==", group_tag="T", assigned_user="a@b.com",
                                       product_key="PK"), "imp") == {
        "serialNumber": "S1", "hardwareIdentifier": "QQ==", "importId": "imp", "productKey": "PK", "groupTag": "T",
        "assignedUserPrincipalName": "a@b.com"}
    assert plan_mod.import_record(spec("S1", hardware_identifier="QQ=="), "imp") == {
        "serialNumber": "S1", "hardwareIdentifier": "QQ==", "importId": "imp"}


def test_explain_error():
    assert graph.explain_error(806, "ZtdDeviceAlreadyAssigned")[2].startswith("The hardware hash is already registered to this tenant")
    assert "another tenant" in graph.explain_error(808, "")[2]
    assert graph.explain_error(808, "")[1] == "ZtdDeviceAssignedToOtherTenant"
    assert "another tenant" in graph.explain_error(None, "ZtdDeviceAssignedToAnotherTenant")[2]
    assert graph.explain_error(1, "Weird")[2] == "The import failed with Weird (code 1)."


def test_build_diff_limited_to_managed_keys():
    plan = plan_mod.plan_devices([spec("S1", group_tag="New"), spec("S2", hardware_identifier=hwid("2"), group_tag="T"),
                                  spec("S3", state="absent")],
                                 plan_mod.index_devices([device("S1", groupTag="Old"), device("S3", groupTag="G")]))
    diff = plan_mod.build_diff(plan)
    assert diff["before"]["devices"] == {"S1": {"group_tag": "Old"},
                                         "S3": {"group_tag": "G", "display_name": "", "assigned_user": "",
                                                "addressable_user_name": ""}}
    assert diff["after"]["devices"] == {"S1": {"group_tag": "New"}, "S2": {"group_tag": "T"}}


# -- DeviceSync against a fake client --------------------------------------------------------

class FakeGraphError(GraphError):
    def __init__(self, status, code="x", message="m"):
        super(FakeGraphError, self).__init__(message, status=status, code=code)


class FakeClient(object):
    """Just enough Graph: devices, import records that complete after ``polls`` list calls, users."""

    def __init__(self, devices=(), users=("anna@contoso.com",), errors=None, polls=1, sync_status=None, keep_import_id=True,
                 hidden_reads=0, filter_status=None, case_sensitive=False, delete_delay=0, real_answer=False):
        self.filter_status = filter_status  # the status answered to a $filter on the devices (400: refused)
        self.case_sensitive = case_sensitive  # contains(serialNumber,...) compares with case
        self.delete_delay = delete_delay  # a deleted device stays listed, unchanged, for this many device reads
        self.real_answer = real_answer  # import records answered as in MSEndpointMgr/Intune issue #71
        self.keep_import_id = keep_import_id
        self.hidden_reads = hidden_reads  # a new device stays out of this many device reads (listed after the sync)
        self.devices = dict((d["id"], dict(d)) for d in devices)
        self.users = set(users)
        self.records = {}
        self.errors = errors or {}
        self.polls = polls
        self.sync_status = sync_status
        self.calls = []

    def list(self, path, api="beta", params=None, headers=None, limit=None):
        self.calls.append(("GET", path, dict(params or {})))
        if path == plan_mod.DEVICES_PATH:
            flt = (params or {}).get("$filter")
            values = []
            for dev in list(self.devices.values()):
                if dev.get("_hidden", 0) > 0:
                    dev["_hidden"] -= 1
                    continue
                if dev.get("_deleting") is not None:
                    dev["_deleting"] -= 1
                    if dev["_deleting"] < 0:
                        del self.devices[dev["id"]]
                        continue
                values.append(dict((k, v) for k, v in dev.items() if not k.startswith("_")))
            if flt and self.filter_status:
                raise GraphError("refused", status=self.filter_status, code="BadRequest")
            if flt and self.case_sensitive:
                values = [d for d in values if flt.split("'")[1] in d["serialNumber"]]
            elif flt:
                needle = flt.split("'")[1].upper()
                values = [d for d in values if needle in d["serialNumber"].upper()]
            return [dict(v) for v in values]
        if path == graph.IMPORTS_PATH:
            for record in self.records.values():
                record["_reads"] += 1
                if record["_reads"] >= self.polls and record["state"]["deviceImportStatus"] == "unknown":
                    self._finish(record)
            return [self._answer(r) for r in self.records.values()]
        raise AssertionError(path)

    def _answer(self, record):
        out = dict((k, v) for k, v in record.items() if not k.startswith("_"))
        if self.real_answer:  # what the one real answer on record carries (MSEndpointMgr/Intune issue #71)
            out.update(hardwareIdentifier="", productKey=out["id"], importId=out["id"], groupTag="", assignedUserPrincipalName="")
        return out

    def _finish(self, record):
        code = self.errors.get(record["serialNumber"])
        if code:
            record["state"] = {"deviceImportStatus": "error", "deviceErrorCode": code,
                               "deviceErrorName": graph.ERROR_CODE_NAMES.get(code, ""), "deviceRegistrationId": ""}
        else:
            record["state"] = {"deviceImportStatus": "complete", "deviceErrorCode": 0, "deviceErrorName": "",
                               "deviceRegistrationId": "r"}
            new = device(record["serialNumber"], id="new-" + record["serialNumber"], groupTag=record.get("groupTag", ""),
                         userPrincipalName=record.get("assignedUserPrincipalName", ""), _hidden=self.hidden_reads)
            self.devices[new["id"]] = new

    def post(self, path, json=None, api="beta", headers=None, probe=None, retry_429=True):
        if path == sync_mod.SYNC_PATH:
            if self.sync_status == 429 and retry_429:
                for dummy in range(5):  # what GraphClient.request does with a 429 it may retry
                    self.calls.append(("POST", path, None))
            return self.request("POST", path)
        self.calls.append(("POST", path, json))
        assert path == graph.IMPORTS_PATH + "/import"
        out = []
        for item in json["importedWindowsAutopilotDeviceIdentities"]:
            record = dict(item, id="rec-%s-%d" % (item["serialNumber"], len(self.records)), _reads=0,
                          state={"deviceImportStatus": "unknown", "deviceErrorCode": 0, "deviceErrorName": ""})
            if not self.keep_import_id:
                record["importId"] = record["id"]  # as a real answer showed it (MSEndpointMgr/Intune issue #71)
            self.records[record["id"]] = record
            out.append(self._answer(record))
        return {"value": out}

    def request(self, method, path, **kw):
        self.calls.append((method, path, None))
        if self.sync_status:
            raise FakeGraphError(self.sync_status, "TooManyRequests")
        return None

    def batch(self, requests, api="beta"):
        self.calls.append(("BATCH", api, list(requests)))
        out = []
        for req in requests:
            url = req["url"]
            if url.startswith("/users/"):
                upn, query = url[len("/users/"):].split("?")
                user = {"userPrincipalName": upn}
                if "displayName" in query:
                    user["displayName"] = "Name of " + upn.split("@")[0]
                out.append({"status": 200, "body": user} if upn in self.users
                           else {"status": 404, "body": {"error": {"code": "Request_ResourceNotFound"}}})
            elif req["method"] == "DELETE" and url.startswith(graph.IMPORTS_PATH):
                self.records.pop(url.rsplit("/", 1)[1], None)
                out.append({"status": 204})
            elif req["method"] == "DELETE":
                dev = self.devices.get(url.rsplit("/", 1)[1])
                if dev is not None and dev.get("_deleting") is not None:
                    out.append({"status": 204})  # a deletion under way: a second DELETE changes nothing
                    continue
                if dev is not None and self.delete_delay:
                    dev["_deleting"] = self.delete_delay
                else:
                    self.devices.pop(url.rsplit("/", 1)[1], None)
                out.append({"status": 204})
            elif req["method"] == "GET":  # the intended profile of a device: none here
                out.append({"status": 404, "body": {"error": {"code": "ResourceNotFound"}}})
            else:
                dev = self.devices[url.split("/")[3]]
                action = url.rsplit("/", 1)[1]
                body = req.get("body") or {}
                if action == "updateDeviceProperties":
                    dev.update(body)
                elif action == "assignUserToDevice":
                    dev.update(body)
                else:
                    dev["userPrincipalName"] = ""
                out.append({"status": 204})
        return out

    def writes(self):
        return [c for c in self.calls if c[0] in ("POST", "DELETE", "PATCH")
                or (c[0] == "BATCH" and any(r["method"] != "GET" for r in c[2]))]


class FakeModule(object):
    def __init__(self, client):
        self.client = client
        self.logs = []
        self.notes = []

    def log(self, msg):
        self.logs.append(msg)

    def note_progress(self, note):
        self.notes.append(note)


class Clock(object):
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def run(client, check_mode=False, **kw):
    p = params(**kw)
    clock = Clock()
    sync = DeviceRun(FakeModule(client), p, clock=clock, sleep=clock.sleep)
    return sync, sync.run(inp.collect_specs(p), check_mode)


ASSIGNED = "2026-03-01T10:00:00Z"  # deploymentProfileAssignedDateTime: "Date assigned" populated


def test_sync_check_mode_writes_nothing_and_predicts():
    client = FakeClient(devices=[device("S1", groupTag="Old")])
    dummy, result = run(client, check_mode=True, devices=[{"serial_number": "S1", "group_tag": "New"},
                                                          {"serial_number": "S2", "hardware_identifier": hwid("2")}])
    assert client.writes() == []
    assert [(d["serial_number"], d["action"]) for d in result["devices"]] == [("S1", "updated"), ("S2", "imported")]
    assert result["devices"][0]["device"]["groupTag"] == "New"
    assert "id" not in result["devices"][1]["device"]
    assert result["changed"] is True and result["import_id"] is None


@pytest.mark.parametrize("missing", ["fail", "warn"])
def test_check_mode_unregistered_serial_without_hash_follows_check_mode_missing(missing):
    """A serial that is neither registered nor given a hash: by default check mode fails as the real run would; with
    check_mode_missing: warn it is assumed to be imported by an earlier task (the role's users step)."""
    client = FakeClient()
    if missing == "fail":
        with pytest.raises(EngineError) as err:
            run(client, check_mode=True, check_mode_missing=missing, devices=[{"serial_number": "S9", "group_tag": "X"}])
        assert "serial 'S9' is not registered and no hardware_identifier is given" in str(err.value)
        assert "set check_mode_missing: warn" in str(err.value)
    else:
        sync, result = run(client, check_mode=True, check_mode_missing=missing, devices=[{"serial_number": "S9", "group_tag": "X"}])
        assert [(d["serial_number"], d["action"]) for d in result["devices"]] == [("S9", "updated")]
        assert any("check mode assumes an earlier task imports it" in w for w in sync.warnings)
    assert client.writes() == []


def test_a_run_that_only_waits_for_an_earlier_import_is_not_changed():
    """The serial's import from an earlier run is still under way: this run adopts it, waits, times out, writes nothing,
    and so reports changed false (the earlier run reported the change)."""
    client = FakeClient()
    client.records["earlier"] = {"id": "earlier", "serialNumber": "S1", "importId": "other", "_reads": -10 ** 6,
                                 "state": {"deviceImportStatus": "unknown"}}
    sync, result = run(client, devices=[{"serial_number": "S1", "hardware_identifier": hwid("1")}], wait_timeout=3)
    assert client.writes() == [] and sync.writes_sent == 0
    assert result["timed_out"] is True and result["changed"] is False
    assert [(d["serial_number"], d["action"]) for d in result["devices"]] == [("S1", "pending")]


def test_sync_imports_reports_errors_cleans_only_own_records_and_syncs():
    client = FakeClient(errors={"S3": 808}, polls=2)
    client.records["foreign"] = {"id": "foreign", "serialNumber": "X", "importId": "other", "_reads": -99,
                                 "state": {"deviceImportStatus": "complete"}}
    sync, result = run(client, devices=[{"serial_number": "S%d" % i, "hardware_identifier": hwid(str(i))} for i in (1, 2, 3)],
                       batch_size=2, group_tag="T")
    actions = dict((d["serial_number"], d["action"]) for d in result["devices"])
    assert actions == {"S1": "imported", "S2": "imported", "S3": "failed"}
    failed = result["devices"][2]
    assert failed["error_code"] == 808 and failed["error_name"] == "ZtdDeviceAssignedToOtherTenant"
    assert "another tenant" in failed["error_message"]
    posts = [c for c in client.calls if c[0] == "POST" and c[1].endswith("/import")]
    assert [len(c[2]["importedWindowsAutopilotDeviceIdentities"]) for c in posts] == [2, 1]
    assert all(r["importId"] == sync.import_id and r["groupTag"] == "T"
               for c in posts for r in c[2]["importedWindowsAutopilotDeviceIdentities"])
    assert list(client.records) == ["foreign"]  # ours deleted, the other run's record kept
    assert ("POST", sync_mod.SYNC_PATH, None) in client.calls
    assert result["devices"][0]["device"]["id"] == "new-S1"
    assert result["summary"] == {"imported": 2, "failed": 1, "total": 3}
    assert result["progress"][-1]["counts"] == {"complete": 2, "error": 1}


def test_sync_rerun_is_unchanged_without_writes():
    client = FakeClient()
    devs = [{"serial_number": "S%d" % i, "hardware_identifier": hwid(str(i)), "group_tag": "T"} for i in range(12)]
    run(client, devices=devs)
    client.calls = []
    dummy, result = run(client, devices=devs)
    assert client.writes() == []
    assert result["changed"] is False and result["summary"] == {"unchanged": 12, "total": 12}
    # more than FILTER_THRESHOLD serials: one paged list with $select and no $top (which would cap the result)
    assert client.calls == [("GET", plan_mod.DEVICES_PATH, {"$select": graph.DEVICE_SELECT})]


def test_sync_few_serials_use_contains_filter():
    client = FakeClient(devices=[device("S1")])
    run(client, devices=[{"serial_number": "S1"}])
    assert client.calls[0] == ("GET", plan_mod.DEVICES_PATH, {"$filter": "contains(serialNumber,'S1')", "$select": graph.DEVICE_SELECT})


def test_sync_updates_users_and_tags_in_one_batch_and_deletes_exactly_named():
    client = FakeClient(devices=[device("S1", groupTag="A"), device("S2", userPrincipalName="old@contoso.com"),
                                 device("S3"), device("S4")])
    dummy, result = run(client, devices=[{"serial_number": "S1", "group_tag": "B"},
                                         {"serial_number": "S2", "assigned_user": ""},
                                         {"serial_number": "S3", "assigned_user": "anna@contoso.com"},
                                         {"serial_number": "S4", "state": "absent"}])
    batches = [c for c in client.calls if c[0] == "BATCH" and c[2][0]["method"] != "GET"]
    assert len(batches) == 1 and len(batches[0][2]) == 4
    assert client.devices["id-S1"]["groupTag"] == "B"
    assert client.devices["id-S2"]["userPrincipalName"] == ""
    assert client.devices["id-S3"]["userPrincipalName"] == "anna@contoso.com"
    assert "id-S4" not in client.devices
    assert [d["action"] for d in result["devices"]] == ["updated", "updated", "updated", "deleted"]


def test_sync_unknown_user_fails_before_writes():
    client = FakeClient(devices=[device("S1")])
    with pytest.raises(EngineError, match="'ghost@contoso.com' .* does not exist"):
        run(client, devices=[{"serial_number": "S1", "assigned_user": "ghost@contoso.com"}])
    assert client.writes() == []


def test_sync_timeout_names_serials_and_states():
    client = FakeClient(polls=10 ** 6)
    dummy, result = run(client, wait_timeout=5, poll_interval=2, devices=[{"serial_number": "S1", "hardware_identifier": hwid("1")}])
    assert result["timed_out"] is True
    assert "Timed out after 5s waiting for the import to finish on 1 device(s): S1 (unknown)" == result["msg"]
    assert result["devices"][0]["action"] == "pending"
    assert ("POST", sync_mod.SYNC_PATH, None) not in client.calls, "nothing imported yet, so no sync"


def test_sync_429_is_a_warning():
    client = FakeClient(sync_status=429)
    sync, result = run(client, devices=[{"serial_number": "S1", "hardware_identifier": hwid("1")}])
    assert result["devices"][0]["action"] == "imported"
    assert sync.warnings[0].startswith("Autopilot sync not started: Intune allows one sync every 10 minutes (429 ")
    assert ".." not in sync.warnings[0]
    assert client.calls.count(("POST", sync_mod.SYNC_PATH, None)) == 1, "the 10-minute rule is not throttling: no retry"


def test_sync_profile_wait():
    client = FakeClient(devices=[device("S1")])
    state = {"n": 0}
    original = client.list

    def listing(path, **kw):
        state["n"] += 1
        if state["n"] >= 3:
            client.devices["id-S1"].update(deploymentProfileAssignmentStatus="assignedInSync", deploymentProfileAssignedDateTime=ASSIGNED)
        return original(path, **kw)

    client.list = listing
    dummy, result = run(client, wait_for="profile_assigned", devices=[{"serial_number": "S1"}])
    assert result["devices"][0]["device"]["deploymentProfileAssignmentStatus"] == "assignedInSync"
    assert result["progress"][-1] == {"phase": "profile", "elapsed": 2, "counts": {"assignedInSync": 1}}


def test_sync_profile_wait_timeout_lists_last_state():
    assigned = device("S2", deploymentProfileAssignmentStatus="assignedInSync", deploymentProfileAssignedDateTime=ASSIGNED)
    client = FakeClient(devices=[device("S1", groupTag="Site"), assigned])
    dummy, result = run(client, wait_for="profile_assigned", wait_timeout=3, devices=[{"serial_number": "S1"}, {"serial_number": "S2"}])
    assert result["msg"] == ("Timed out after 3s waiting for a deployment profile to be assigned on 1 device(s): S1 (notAssigned). "
                             "Why: S1: no deployment profile targets it: no profile is assigned to a group it is a member of "
                             "(is there a group whose rule matches its group tag 'Site', and is a profile assigned to it?).")


def test_csv_fixture_file_parses():
    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "integration", "files", "autopilot_device")
    if not os.path.isdir(path):
        pytest.skip("integration files not present")
    for name in os.listdir(path):
        if name.startswith("good") and name.endswith(".csv"):
            with open(os.path.join(path, name), "rb") as f:
                rows, dummy = inp.parse_csv(f.read(), name)
            assert rows


def test_writes_are_paced_under_the_intune_limit():
    """100 writes per 20 s per app (throttling-intune-enrollment.md), kept as a sliding window over $batch requests of 20."""
    client = FakeClient(devices=[device("S%03d" % i) for i in range(250)])
    clock = Clock()
    writer = graph.Writer(client, graph.WriteBudget(clock, clock.sleep))
    sent_at = []
    original = client.batch

    def batch(requests, api="beta"):
        sent_at.append((clock.now, len(requests)))
        return original(requests, api=api)
    client.batch = batch
    calls = [{"method": "DELETE", "url": "%s/id-S%03d" % (plan_mod.DEVICES_PATH, i)} for i in range(250)]
    answers = writer.send(calls)
    assert len(answers) == 250 and all(a["status"] == 204 for a in answers)
    assert [n for _t, n in sent_at] == [20] * 12 + [10]
    for start, _n in sent_at:
        assert sum(n for t, n in sent_at if start <= t < start + graph.WRITE_LIMIT[1]) <= graph.WRITE_LIMIT[0]
    assert clock.now == 1000.0 + 2 * graph.WRITE_LIMIT[1], "250 writes: the third window opens after 40 s, not later"


@pytest.mark.parametrize("keep_import_id", [True, False])
def test_import_after_dropped_connection_never_imports_twice(keep_import_id):
    """The service stored only the first two records of a batch before the connection dropped: the probe finds
    them by serial among the records that were not there before the import (not by importId, which the service
    may overwrite with the record id), and only the third device is sent again."""
    client = FakeClient(keep_import_id=keep_import_id)
    # a finished record of an earlier run for S0, left in place: not this run's, so the probe must not take it
    client.records["old"] = {"id": "old", "serialNumber": "S0", "importId": "old", "_reads": -99,
                             "state": {"deviceImportStatus": "error", "deviceErrorCode": 806, "deviceErrorName": ""}}
    original = client.post
    state = {"dropped": False}

    def post(path, json=None, api="beta", headers=None, probe=None, retry_429=True):
        if path.endswith("/import") and not state["dropped"]:
            state["dropped"] = True
            items = json["importedWindowsAutopilotDeviceIdentities"]
            original(path, json=dict(json, importedWindowsAutopilotDeviceIdentities=items[:2]))
            found = probe()  # what the real client does after a 5xx / connection error
            assert found is not None
            return found
        return original(path, json=json, api=api, headers=headers, probe=probe, retry_429=retry_429)

    client.post = post
    dummy, result = run(client, devices=[{"serial_number": "S%d" % i, "hardware_identifier": hwid(str(i))} for i in range(3)])
    sent = [r["serialNumber"] for c in client.calls if c[0] == "POST" and c[1].endswith("/import")
            for r in c[2]["importedWindowsAutopilotDeviceIdentities"]]
    assert sent == ["S0", "S1", "S2"], "each serial sent once"
    assert result["summary"] == {"imported": 3, "total": 3}
    assert sorted(d["serialNumber"] for d in client.devices.values()) == ["S0", "S1", "S2"]
    assert list(client.records) == ["old"], "this run's records deleted, the earlier run's kept"


def test_followups_wait_until_intune_lists_the_imported_devices():
    """Devices appear after the sync, not when the import record completes (memdocs autopilot/add-devices.md):
    the display name is applied once the device is listed, not silently skipped."""
    client = FakeClient(hidden_reads=2)
    sync, result = run(client, devices=[{"serial_number": "S1", "hardware_identifier": hwid("1"), "display_name": "PC-1"},
                                        {"serial_number": "S2", "hardware_identifier": hwid("2")}])
    assert client.devices["new-S1"]["displayName"] == "PC-1"
    assert [d["action"] for d in result["devices"]] == ["imported", "imported"]
    assert result["devices"][0]["device"]["id"] == "new-S1" and result["devices"][1]["device"]["id"] == "new-S2"
    listed = [p for p in result["progress"] if p["phase"] == "listed"]
    assert [p["counts"] for p in listed] == [{"listed": 2, "not listed": 0}]  # one re-read after the first (each device read counts)
    assert sync.warnings == [] and "timed_out" not in result


def test_devices_never_listed_time_out_keeping_the_result_and_naming_skipped_settings():
    client = FakeClient(hidden_reads=10 ** 6)
    sync, result = run(client, wait_timeout=30, poll_interval=5, devices=[
        {"serial_number": "S1", "hardware_identifier": hwid("1"), "display_name": "PC-1"},
        {"serial_number": "S2", "hardware_identifier": hwid("2")}])
    assert result["timed_out"] is True
    assert result["msg"].startswith("Timed out after 30s waiting for Intune to list the imported devices on 2 device(s): "
                                    "S1 (not listed), S2 (not listed). The devices are imported; Intune lists them after "
                                    "an Autopilot sync, and this run's sync was accepted. Run the task again later")
    assert [d["action"] for d in result["devices"]] == ["imported", "imported"]
    assert sync.warnings == ["Imported but not listed by Intune yet, so these settings were not applied: S1 (display_name). "
                             "Run the task again once the devices are listed."]
    assert not [c for c in client.calls if c[0] == "BATCH" and "updateDeviceProperties" in str(c[2])]
    # The complete records stay: they tell the next run that these devices are imported, only not listed yet.
    assert sorted(r["serialNumber"] for r in client.records.values()) == ["S1", "S2"]

    # Next run, while Intune still does not list them at its first read: no second import (it would end in 806); it
    # syncs, waits until they are listed, applies the display name and cleans the records up.
    for dev in client.devices.values():
        dev["_hidden"] = 2  # one per serial read by the planning (one filtered read each)
    client.hidden_reads = 0
    client.calls = []
    sync2, again = run(client, wait_timeout=30, poll_interval=5, devices=[
        {"serial_number": "S1", "hardware_identifier": hwid("1"), "display_name": "PC-1"},
        {"serial_number": "S2", "hardware_identifier": hwid("2")}])
    assert "timed_out" not in again, again.get("msg")
    assert not [c for c in client.calls if c[0] == "POST" and c[1].endswith("/import")], "imported again"
    assert [d["action"] for d in again["devices"]] == ["imported", "imported"]
    assert client.devices["new-S1"]["displayName"] == "PC-1"
    assert client.records == {}
    assert any("is complete but Intune does not list them yet" in w for w in sync2.warnings)


@pytest.mark.parametrize("status", [400, 403])
def test_refused_serial_filter_falls_back_to_the_full_list_once(status):
    """contains(serialNumber,...) is not in Microsoft's list page: a 400 reads the whole list (and is not tried again);
    any other error still fails."""
    client = FakeClient(devices=[device("S1", groupTag="Old"), device("S10"), device("X9")], filter_status=status)
    if status != 400:
        with pytest.raises(GraphError):
            run(client, devices=[{"serial_number": "S1", "group_tag": "New"}])
        return
    sync, result = run(client, devices=[{"serial_number": "S1", "group_tag": "New"},
                                        {"serial_number": "S2", "hardware_identifier": hwid("2"), "display_name": "PC-2"}])
    assert [(d["serial_number"], d["action"]) for d in result["devices"]] == [("S1", "updated"), ("S2", "imported")]
    assert client.devices["id-S1"]["groupTag"] == "New" and client.devices["id-S10"]["groupTag"] == ""
    assert client.devices["new-S2"]["displayName"] == "PC-2"
    reads = [c[2] for c in client.calls if c[0] == "GET" and c[1] == plan_mod.DEVICES_PATH]
    # plan, wait until listed, and the read-back of the written devices (fidelity finding 8)
    assert [r.get("$filter") for r in reads] == ["contains(serialNumber,'S1')", None, None, None]
    assert sync.warnings == [graph.FILTER_REFUSED]


def test_assign_user_without_friendly_name_sends_the_users_display_name_and_reruns_unchanged():
    """assignUserToDevice: both parameters are "Not yet documented"; instead of "" the module sends the user's
    displayName (read with the user), and a re-run does not compare a friendly name the task did not set."""
    client = FakeClient(devices=[device("S1"), device("S2")])
    devs = [{"serial_number": "S1", "assigned_user": "anna@contoso.com"},
            {"serial_number": "S2", "assigned_user": "anna@contoso.com", "addressable_user_name": "Hi Anna"}]
    dummy, result = run(client, devices=devs)
    assert [d["action"] for d in result["devices"]] == ["updated", "updated"]
    sent = dict((r["url"].split("/")[3], r["body"]) for c in client.calls if c[0] == "BATCH" for r in c[2]
                if r["url"].endswith("/assignUserToDevice"))
    assert sent == {"id-S1": {"userPrincipalName": "anna@contoso.com", "addressableUserName": "Name of anna"},
                    "id-S2": {"userPrincipalName": "anna@contoso.com", "addressableUserName": "Hi Anna"}}
    assert client.devices["id-S1"]["addressableUserName"] == "Name of anna"
    client.devices["id-S1"]["addressableUserName"] = ""  # as if the service kept none: still no change asked for
    client.calls = []
    dummy, result = run(client, devices=devs)
    assert client.writes() == [] and result["changed"] is False


# -- the sync again when the first one was refused (parallel runs, one host per site) ----------------------------
# The run starts at T0 + 1000 on the fake clock (T0 puts the dates in 2026); the import completes at the first poll
# and the sync is sent at T0 + 1015 (elapsed 15); polls every 15 s. Times below are given from T0.
T0 = 1772359200 - 1000


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(ts))


class SyncingClient(FakeClient):
    """The sync rule of the sync page on the fake clock (409 while one runs, 429 within ``interval`` of the last), and
    a service that lists a device only once a sync that started after its import completed has ended. ``others``
    are the times at which other runs trigger a sync; ``dates`` False answers the settings without dates; with
    ``retry_after`` the 429 carries the seconds left (Microsoft documents none)."""

    def __init__(self, clock, others=(), duration=10, interval=600, dates=True, retry_after=False, **kw):
        super(SyncingClient, self).__init__(**kw)
        self.clock, self.others, self.duration, self.interval = clock, sorted(T0 + o for o in others), duration, interval
        self.dates, self.retry_after = dates, retry_after
        self.syncs = []  # (start, who)
        self.completed_at = {}  # device id -> when its import completed

    def _catch_up(self):
        while self.others and self.others[0] <= self.clock():
            self.syncs.append((self.others.pop(0), "other"))

    def listed_now(self, device_id):
        done = self.completed_at.get(device_id)
        return done is None or any(start >= done and start + self.duration <= self.clock() for start, _w in self.syncs)

    def _finish(self, record):
        super(SyncingClient, self)._finish(record)
        self.completed_at["new-" + record["serialNumber"]] = self.clock()

    def list(self, path, api="beta", params=None, headers=None, limit=None):
        self._catch_up()
        for dev in self.devices.values():
            dev["_hidden"] = 0 if self.listed_now(dev["id"]) else 1
        return super(SyncingClient, self).list(path, api=api, params=params, headers=headers, limit=limit)

    def get(self, path, api="beta", params=None, headers=None):
        self._catch_up()
        self.calls.append(("GET", path, None))
        assert path == sync_mod.SETTINGS_PATH
        last = self.syncs[-1][0] if self.syncs else None
        running = last is not None and self.clock() < last + self.duration
        body = {"id": "t", "syncStatus": "inProgress" if running else "completed",
                "lastManualSyncTriggerDateTime": iso(last) if last is not None and self.dates else "0001-01-01T00:00:00Z",
                "lastSyncDateTime": "0001-01-01T00:00:00Z"}
        return {"value": body}  # as the get page's example shows it

    def request(self, method, path, **kw):
        self._catch_up()
        self.calls.append((method, path, None))
        now = self.clock()
        last = self.syncs[-1][0] if self.syncs else None
        if last is not None and now < last + self.duration:
            raise FakeGraphError(409, "Conflict")
        if last is not None and now < last + self.interval:
            error = FakeGraphError(429, "TooManyRequests")
            error.retry_after = last + self.interval - now if self.retry_after else None
            raise error
        self.syncs.append((now, "us"))
        return None


def t0_clock():
    clock = Clock()
    clock.now += T0
    return clock


def run_syncing(client=None, devices=2, wait_timeout=1800, **kw):
    clock = client.clock if client else t0_clock()
    client = client or SyncingClient(clock, **kw)
    p = params(devices=[{"serial_number": "S%d" % i, "hardware_identifier": hwid(str(i))} for i in range(devices)],
               wait_timeout=wait_timeout, poll_interval=15)
    sync = DeviceRun(FakeModule(client), p, clock=clock, sleep=clock.sleep)
    return client, sync, sync.run(inp.collect_specs(p), False)


def answers(sync):
    return [(elapsed, status) for elapsed, status, _code in sync.sync.answers]


def all_listed(client, result):
    assert "timed_out" not in result, result.get("msg")
    assert [d["action"] for d in result["devices"]] == ["imported", "imported"]
    assert [d["device"]["id"] for d in result["devices"]] == ["new-S0", "new-S1"]
    assert all(client.listed_now(d["device"]["id"]) for d in result["devices"])


def test_refused_sync_is_sent_again_ten_minutes_after_the_refusal_without_dates():
    """Another site synced 55 s before this run's sync (429). Without dates the module measures 10 minutes from its
    refusal itself and sends the sync again then; it is accepted and lists the devices. Before the fix the run
    waited for the whole wait_timeout and failed."""
    client, sync, result = run_syncing(others=[960], dates=False)
    assert answers(sync) == [(15, 429), (615, 204)]
    assert [start - T0 for start, who in client.syncs if who == "us"] == [1615]
    all_listed(client, result)
    assert sync.warnings == [], "the sync was accepted in the end: nothing to warn about"
    assert [p["counts"] for p in result["progress"] if p["phase"] == "sync"] == [{"204": 1, "429": 1}]


def test_two_refused_syncs_then_success_when_the_dates_are_wrong():
    """Clocks apart: the dates say 10 minutes have passed, Intune still answers 429. The module then goes by its own
    measure (one attempt per 10 minutes), not one attempt per poll; the third attempt lists the devices."""
    client = SyncingClient(t0_clock(), others=[990])
    real_get = client.get

    def skewed(path, **kw):
        body = real_get(path, **kw)
        body["value"]["lastManualSyncTriggerDateTime"] = iso(client.clock() - 3600)
        return body

    client.get = skewed
    client, sync, result = run_syncing(client)
    assert answers(sync) == [(15, 429), (30, 429), (630, 204)]
    assert client.calls.count(("GET", sync_mod.SETTINGS_PATH, None)) == 1, "the dates are not read again once wrong"
    all_listed(client, result)
    assert sync.warnings == []


def test_a_409_the_dates_did_not_foresee_falls_back_to_ten_minutes():
    """Another run's long sync is running but the settings say it is not (syncStatus completed, an old date): the
    module's sync gets 409. From then on it goes by its own 10 minutes, not one sync per poll."""
    client = SyncingClient(t0_clock(), others=[1005], duration=400)
    real_get = client.get

    def stale(path, **kw):
        body = real_get(path, **kw)
        body["value"]["syncStatus"] = "completed"
        body["value"]["lastManualSyncTriggerDateTime"] = iso(client.clock() - 3600)
        return body
    client.get = stale
    client, sync, result = run_syncing(client)
    refused = [elapsed for elapsed, status in answers(sync) if status != 204]
    assert all(later - earlier >= 600 for earlier, later in zip(refused[1:], refused[2:])), answers(sync)
    assert len(answers(sync)) <= 4, answers(sync)


def test_refused_sync_goes_by_the_settings_dates():
    """With lastManualSyncTriggerDateTime the retry comes 10 minutes after the other run's sync (at 1550 for its
    sync at 950), sooner than 10 minutes after this run's refusal; the settings are read twice, not on every poll."""
    client, sync, result = run_syncing(others=[950])
    assert answers(sync) == [(15, 429), (555, 204)]
    assert client.calls.count(("GET", sync_mod.SETTINGS_PATH, None)) == 2
    all_listed(client, result)
    assert sync.warnings == []


def test_a_running_sync_is_waited_for_and_a_later_one_of_another_run_spares_ours():
    """409 (a sync runs, started before the import completed), then another run syncs after it did: that sync lists
    the devices, so this run sends no second sync."""
    client, sync, result = run_syncing(others=[1010, 1500])
    assert answers(sync) == [(15, 409)]
    assert client.calls.count(("POST", sync_mod.SYNC_PATH, None)) == 1
    all_listed(client, result)
    assert sync.warnings == ["Autopilot sync not started: a sync is already running (409 Conflict); the devices may appear "
                             "when it ends, or after a later sync."]


def test_no_second_sync_when_the_first_was_accepted():
    client, sync, result = run_syncing()
    assert answers(sync) == [(15, 204)]
    assert client.calls.count(("POST", sync_mod.SYNC_PATH, None)) == 1
    assert ("GET", sync_mod.SETTINGS_PATH, None) not in client.calls
    all_listed(client, result)
    assert sync.warnings == [] and "sync" not in [p["phase"] for p in result["progress"]]


def test_retry_after_on_the_refusal_is_followed():
    """A service with a shorter rule that says so in Retry-After (the emulator can): the sync is sent when it says."""
    client, sync, result = run_syncing(others=[990], interval=60, retry_after=True, duration=2)
    assert answers(sync) == [(15, 429), (60, 204)]
    assert ("GET", sync_mod.SETTINGS_PATH, None) not in client.calls
    all_listed(client, result)


def test_refusals_until_the_timeout_make_one_warning():
    client, sync, result = run_syncing(others=[990], interval=10 ** 6, dates=False, wait_timeout=1300)
    assert answers(sync) == [(15, 429), (615, 429), (1215, 429)]
    assert result["timed_out"] is True
    assert [w for w in sync.warnings if "sync" in w] == [
        "Autopilot sync not started: Intune refused all 3 attempts (3 x 429), the last after 1215 s (409: a sync was "
        "running; 429: within 10 minutes of the previous sync); the devices appear after a later sync."]


def test_graph_time():
    assert sync_mod.graph_time("1970-01-02T00:00:00Z") is None
    assert sync_mod.graph_time("0001-01-01T00:00:00Z") is None
    assert sync_mod.graph_time("2026-03-01T10:00:00.1234567Z") == 1772359200.0
    assert sync_mod.graph_time("2026-03-01T12:00:00+02:00") == 1772359200.0
    assert sync_mod.graph_time(None) is None and sync_mod.graph_time("yesterday") is None

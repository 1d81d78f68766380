"""Dynamic membership rules: what the emulator accepts (and answers), which objects a rule selects, and its
agreement with the collection's client-side check on real rules (tests/data/membership_rules.json)."""

import datetime
import importlib.util
import json
import os
import random
import re
import uuid

import pytest

from tests.graph_emulator import directory, rules

from .test_directory import device_object, security_group

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
with open(os.path.join(ROOT, "tests", "data", "membership_rules.json"), encoding="utf-8") as handle:
    DATA = json.load(handle)["rules"]
VALID = [e for e in DATA if e["valid"]]
INVALID = [e for e in DATA if not e["valid"]]


def client_check():
    """The collection's module_utils/_membership_rule.py, loaded from its file (it imports nothing of Ansible)."""
    spec = importlib.util.spec_from_file_location(
        "membership_rule", os.path.join(ROOT, "plugins", "module_utils", "_membership_rule.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dynamic(name, rule):
    return security_group(name, groupTypes=["DynamicMembership"], membershipRule=rule, membershipRuleProcessingState="On")


def accepts(rule):
    try:
        rules.parse(rule)
    except rules.RuleError:
        return False
    return True


def test_data_file_covers_the_forms_real_rules_take():
    texts = [e["rule"] for e in VALID]
    assert any(re.search(r"\) and \(", t) for t in texts) and any(" or " in t for t in texts)
    for operator in ("-notStartsWith", "-notContains", "-notMatch", "-in [", "-notin [", "-all (", "-any _ "):
        assert any(operator in t for t in texts), operator
    assert any("\n" in t.strip() for t in texts), "a multi-line rule"
    assert any("((" in t for t in texts), "nested parentheses"
    assert len({e["source"].split()[0] for e in DATA}) >= 10
    assert all(e["source"] for e in DATA)


@pytest.mark.parametrize("entry", DATA, ids=lambda e: e["rule"][:60])
def test_emulator_verdict_on_real_rules(entry):
    if entry["valid"]:
        ast, kind = rules.parse(entry["rule"])
        assert kind in ("user", "device")
    else:
        with pytest.raises(rules.RuleError) as refused:
            rules.parse(entry["rule"])
        assert refused.value.code == entry.get("code", "Request_BadRequest")


def test_client_check_agrees_with_emulator_on_every_real_rule():
    check = client_check()
    for entry in DATA:
        assert (check.problems(entry["rule"]) == []) is accepts(entry["rule"]) is entry["valid"], entry["rule"]


def test_client_check_agrees_with_emulator_on_mutated_rules():
    """Rules broken or bent at random (fixed seed): both implementations accept exactly the same ones."""
    check = client_check()
    pieces = ['(', ')', '"', "'", ' -and ', ' and ', ' -or ', ' -not ', '-eq', 'eq', '[', ']', ',', 'null', '$null',
              '_', 'true', ' -any ', ' -all ', 'user.', 'device.', ' -in ', ' -match ', '\n', '-', 'system.now',
              ' -plus ', 'P1D', '5', '2020-01-01T00:00:00Z', 'x', '\u2013', '`"', '\\"', '.', 'user.accountEnabled',
              ' -contains ', ' -ge ', 'device.devicePhysicalIds', 'user.memberOf', 'assignedPlan.service',
              'group.objectId', 'Direct Reports for ', '"aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb"', '["a", "b"]',
              'user.employeeHireDate', '(system.now -minus P30D)', 'user.otherMails']
    rng = random.Random(20261213)
    seen = {True: 0, False: 0}
    for entry in DATA * 8:
        parts = re.findall(r'"[^"]*"|\S+|\s+', entry["rule"])
        for unused in range(rng.randint(1, 3)):
            where = rng.randrange(len(parts) + 1)
            if rng.random() < 0.4 and where < len(parts):
                del parts[where]
            else:
                parts.insert(where, rng.choice(pieces))
        text = "".join(parts)
        verdict = accepts(text)
        seen[verdict] += 1
        assert (check.problems(text) == []) is verdict, text
    assert min(seen.values()) > 50


@pytest.mark.parametrize("entry", INVALID, ids=lambda e: e["rule"][:60])
def test_graph_refuses_an_invalid_rule_on_create(graph, emulator, entry):
    answer = graph.post("/groups", json=dynamic("Refused", entry["rule"]))
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == entry.get("code", "Request_BadRequest")
    if error["code"] == "InvalidObjectTypeException":
        assert error["message"] == "No object type"
    else:
        assert error["message"].startswith("Dynamic membership rule validation error: ")
    assert not [g for g in emulator.tenant.set("groups").values() if g["displayName"] == "Refused"]


def test_graph_refuses_an_invalid_rule_on_update_and_keeps_the_rule(graph, emulator):
    rule = '(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))'
    group_id = graph.post("/groups", json=dynamic("Autopilot", rule)).json()["id"]
    answer = graph.patch("/groups/" + group_id, json={"membershipRule": '(device.deviceOSType -eq "Windows") -and'})
    assert answer.status_code == 400
    assert "Query compilation error." in answer.json()["error"]["message"]
    assert emulator.tenant.get("groups", group_id)["membershipRule"] == rule
    renamed = graph.patch("/groups/" + group_id, json={"membershipRule": "device.accountEnabled eq true"})
    assert renamed.status_code == 204
    assert emulator.tenant.get("groups", group_id)["membershipRule"] == "device.accountEnabled eq true"


def test_graph_keeps_a_real_rule_as_written(graph, emulator):
    """Each valid rule of the data is created through Graph and read back character for character."""
    for number, entry in enumerate(VALID):
        answer = graph.post("/groups", json=dynamic("Real %d" % number, entry["rule"]))
        assert answer.status_code == 201, entry["rule"]
        stored = graph.get("/groups/" + answer.json()["id"], params={"$select": "membershipRule"}).json()
        assert stored["membershipRule"] == entry["rule"]


def test_the_refusal_names_what_is_wrong():
    cases = {
        '(user.invalidProperty -eq "Value")': "Attribute not supported. 'user.invalidproperty'.",
        '(user.accountEnabled -contains true)': "Operator isn't supported on attribute.",
        'device.deviceOSType -any (_ -eq "Windows")': "Operator isn't supported on attribute.",
        '(device.displayName -eq "a") -and (user.city -eq "b")': "both users and devices",
        '(user.department -eq "Sales") (user.department -eq "Marketing")': "missing -and / -or",
        'device.devicePhysicalIds -any (user.city -eq "x")': "Invalid operands found for operator -any.",
        '(user.userPrincipalName -match "*@domain.ext")': "Invalid regular expression",
        'user.memberof -any (group.objectId -in [\'a\']) -and user.city -eq "x"': "memberOf",
        'user.employeeHireDate -ge system.now -plus 30': "Bad duration",
        'user.city -eq "x" ' + "-or user.city -eq \"y\" " * 200: "longer than 3072",
        "(" * 51 + 'user.city -eq "a"' + ")" * 51: "Nested deeper than 50.",
    }
    for text, words in cases.items():
        with pytest.raises(rules.RuleError) as refused:
            rules.parse(text)
        assert refused.value.code == "Request_BadRequest"
        assert words in refused.value.message, (text, refused.value.message)


def assert_selects(cases, entity, expected_kind, group_members=None):
    for text, expected in cases.items():
        ast, kind = rules.parse(text)
        assert kind == expected_kind
        assert rules.evaluate(ast, entity, group_members) is expected, text


def test_rule_operators_select_the_right_devices():
    device = {"id": "d1", "displayName": "Kiosk-7", "physicalIds": ["[ZTDId]:1", "[OrderId]:Retail"],
              "accountEnabled": True, "operatingSystem": "Windows", "manufacturer": "Dell Inc.", "model": "Latitude",
              "extensionAttributes": {"extensionAttribute3": "Berlin"}, "enrollmentProfileName": None}
    cases = {
        '(device.displayName -startsWith "kiosk") -and (device.devicePhysicalIds -any (_ -eq "[OrderId]:retail"))': True,
        '(device.displayName -startsWith "kiosk") and (device.deviceOSType -eq "windows")': True,
        'device.deviceOSType -eq "iOS" or device.deviceManufacturer -eq "DELL INC."': True,
        '-not (device.displayName -contains "kiosk")': False,
        'not device.displayName -contains "kiosk"': False,
        '(device.displayName -eq "x") -or (device.accountEnabled -eq true)': True,
        'device.displayName -in ["Kiosk-7", "Other"]': True,
        'device.displayName -notIn ["Kiosk-7", "Other"]': False,
        'device.displayName -match "^kiosk-[0-9]$"': True,
        'device.displayName -notMatch "^kiosk"': False,
        'device.displayName -endsWith "-7"': True,
        'device.deviceModel -notStartsWith "Lat"': False,
        'device.deviceModel -notContains "Virtual"': True,
        'device.devicePhysicalIds -all (_ -startsWith "[")': True,
        '(device.deviceOSType -eq "Windows") and (device.devicePhysicalIDs -all (_ -notStartsWith "[ZTDID]"))': False,
        'device.devicePhysicalIds -any _ -startsWith "[OrderID]:Ret"': True,
        'device.extensionAttribute3 -eq "berlin"': True,
        'device.enrollmentProfileName -eq null': True,
        'device.enrollmentProfileName -ne $null': False,
        'device.deviceCategory -notStartsWith "x"': True,
        'device.displayName -eq "x" -or device.displayName -eq "y" -and device.accountEnabled -eq false': False,
        '(device.displayName -eq "Kiosk-7" -or device.displayName -eq "y") -and device.accountEnabled -eq true': True,
        'device.displayName -eq "Kiosk-7" -or device.displayName -eq "y" -and device.accountEnabled -eq false': True,
    }
    assert_selects(cases, device, "device")
    assert_selects({'device.devicePhysicalIds -all (_ -notStartsWith "[ZTDId]")': True}, {"physicalIds": []}, "device")


def test_user_rules_plans_membership_hire_dates_and_reports():
    now = datetime.datetime.now(datetime.timezone.utc)
    user = {"id": "u1", "department": "Sales", "userType": "Member", "proxyAddresses": ["SMTP:ann@contoso.com"],
            "employeeHireDate": (now - datetime.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "assignedPlans": [{"servicePlanId": "c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "capabilityStatus": "Enabled",
                               "service": "SCO"}],
            "onPremisesExtensionAttributes": {"extensionAttribute15": "Marketing"},
            "manager": {"id": "AAAAAAAA-0000-1111-2222-BBBBBBBBBBBB"}}
    groups = {"g1": ["u1"], "g2": []}
    cases = {
        'user.assignedPlans -any (assignedPlan.servicePlanId -eq "c1ec4a95-1f05-45b3-a911-aa3fa01094f5" -and '
        'assignedPlan.capabilityStatus -eq "Enabled")': True,
        'user.assignedPlans -any (assignedPlan.service -eq "EXCHANGE")': False,
        'user.assignedPlans -all (assignedPlan.servicePlanId -eq null)': False,
        '(user.proxyAddresses -any (_ -startsWith "smtp:ann"))': True,
        'user.proxyAddresses -endsWith "@contoso.com"': True,
        "user.memberof -any (group.objectId -in ['g1', 'g2'])": True,
        "user.memberof -any (group.objectId -in ['g2'])": False,
        'user.employeeHireDate -ge (system.now -minus P30D) -and user.employeeHireDate -le system.now': True,
        'user.employeehiredate -ge system.now -plus p1d': False,
        'user.employeeHireDate -le 2020-06-10T18:13:20Z': False,
        '(user.extensionAttribute15 -eq "Marketing")': True,
        'Direct Reports for "aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb"': True,
        'user.objectId -ne null': True,
        'user.department -eq "Sa`"les"': False,
        'user.department -ne "Sa\\"les"': True,
    }
    assert_selects(cases, user, "user", lambda gid: groups.get(gid, []))
    assert_selects({'user.assignedPlans -all (assignedPlan.servicePlanId -eq null)': True}, {"assignedPlans": []}, "user")
    for quoted in ('user.department -eq "Sa`"les"', 'user.department -eq "Sa\\"les"', "user.department -eq 'Sa\"les'"):
        assert rules.evaluate(rules.parse(quoted)[0], {"department": 'sa"LES'}) is True, quoted


def test_real_autopilot_rules_through_graph(graph, emulator):
    """Group tags by prefix (ashwin42/azure-env), the non-Autopilot group (IntuneHydrationKit) and a tag rule."""
    tenant = emulator.tenant
    kiosk = device_object(tenant, "F1-KIOSK", group_tag="F1.A1.SU")
    other = device_object(tenant, "FV-1", group_tag="FV.T1")
    plain = device_object(tenant, "BYOD-1", ztd=False)
    made = {}
    for name, rule in {
            "F1": '(device.devicePhysicalIds -any _ -startsWith "[OrderID]:F1.A1")',
            "non-autopilot": '(device.deviceOSType -eq "Windows") and '
                             '(device.devicePhysicalIDs -all (_ -notStartsWith "[ZTDID]"))',
            "tag": 'device.devicephysicalids any _ eq "[orderid]:fv.t1"'}.items():
        made[name] = graph.post("/groups", json=dynamic(name, rule)).json()["id"]
    assert directory.member_ids(tenant, made["F1"]) == {kiosk["id"]}
    assert directory.member_ids(tenant, made["non-autopilot"]) == {plain["id"]}
    assert [m["id"] for m in graph.get("/groups/%s/members" % made["tag"]).json()["value"]] == [other["id"]]


def test_member_of_rule_reads_the_direct_members_of_the_named_groups(graph, emulator):
    tenant = emulator.tenant
    device = device_object(tenant, "AP-9")
    source = graph.post("/groups", json=security_group("Pilot devices")).json()["id"]
    ref = {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + device["id"]}
    assert graph.post("/groups/%s/members/$ref" % source, json=ref).status_code == 204
    rule = "device.memberof -any (group.objectId -in ['%s', '%s'])" % (source, uuid.uuid4())
    group_id = graph.post("/groups", json=dynamic("Pilot dynamic", rule)).json()["id"]
    assert directory.member_ids(tenant, group_id) == {device["id"]}

"""users, groups, members, devices and dynamic membership."""

import uuid

import pytest

from tests.graph_emulator import directory

AUTOPILOT_RULE = '(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))'


def security_group(name="Sales devices", **extra):
    body = {"displayName": name, "mailEnabled": False, "mailNickname": name.replace(" ", "-").lower(),
            "securityEnabled": True}
    body.update(extra)
    return body


def device_object(tenant, name, group_tag=None, ztd=True, purchase_order=None):
    """An Entra device object as the Intune resources write it (Graph ``device`` shape)."""
    physical = []
    if ztd:
        physical.append("[ZTDId]:%s" % uuid.uuid4())
    if group_tag is not None:
        physical.append("[OrderId]:%s" % group_tag)
    if purchase_order is not None:
        physical.append("[PurchaseOrderId]:%s" % purchase_order)
    device = {"id": str(uuid.uuid4()), "deviceId": str(uuid.uuid4()), "displayName": name, "operatingSystem": "Windows",
              "operatingSystemVersion": "10.0.22631", "accountEnabled": True, "physicalIds": physical,
              "trustType": None, "profileType": "RegisteredDevice"}
    return tenant.add("devices", device, replicate=False)


def test_users_list_get_by_id_and_upn(graph, emulator):
    users = graph.get("/users").json()["value"]
    assert len(users) == 5
    first = users[0]
    assert graph.get("/users/" + first["id"]).json()["userPrincipalName"] == first["userPrincipalName"]
    by_upn = graph.get("/users/" + first["userPrincipalName"].upper())
    assert by_upn.status_code == 200 and by_upn.json()["id"] == first["id"]
    found = graph.get("/users", params={"$filter": "userPrincipalName eq '%s'" % first["userPrincipalName"]}).json()
    assert [u["id"] for u in found["value"]] == [first["id"]]
    missing = graph.get("/users/nobody@contoso.onmicrosoft.com")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "Request_ResourceNotFound"
    assert directory.find_user(emulator.tenant, first["userPrincipalName"].lower())["id"] == first["id"]


def test_create_group_shape_and_default_properties(graph, emulator):
    answer = graph.post("/groups", json=security_group())
    assert answer.status_code == 201
    body = answer.json()
    assert body["@odata.context"].endswith("$metadata#groups/$entity")
    assert body["groupTypes"] == [] and body["securityEnabled"] is True and body["mailEnabled"] is False
    assert body["membershipRule"] is None and body["proxyAddresses"] == []
    assert body["securityIdentifier"].startswith("S-1-12-1-")
    assert not [k for k in body if k.startswith("_")]
    stored = emulator.tenant.get("groups", body["id"])
    assert stored["displayName"] == "Sales devices"
    got = graph.get("/groups/" + body["id"]).json()
    assert got["id"] == body["id"] and got["mailNickname"] == "sales-devices"


@pytest.mark.parametrize("missing", ["displayName", "mailEnabled", "mailNickname", "securityEnabled"])
def test_create_group_requires_properties(graph, emulator, missing):
    body = security_group()
    del body[missing]
    answer = graph.post("/groups", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "Request_BadRequest"
    assert missing in answer.json()["error"]["message"]
    assert emulator.tenant.set("groups") == {}


@pytest.mark.parametrize("nickname", ["has space", "a@b", "x" * 65, "dot.ted", "", "ümlaut"])
def test_create_group_mail_nickname_rules(graph, nickname):
    answer = graph.post("/groups", json=security_group(mailNickname=nickname))
    assert answer.status_code == 400
    assert "mailNickname" in answer.json()["error"]["message"]


def test_mail_enabled_security_group_refused(graph):
    answer = graph.post("/groups", json=security_group(mailEnabled=True))
    assert answer.status_code == 400
    assert "mail-enabled" in answer.json()["error"]["message"]


def test_duplicate_display_names_allowed(graph, emulator):
    assert graph.post("/groups", json=security_group("Twin")).status_code == 201
    assert graph.post("/groups", json=security_group("Twin")).status_code == 201
    found = graph.get("/groups", params={"$filter": "displayName eq 'Twin'"}).json()["value"]
    assert len(found) == 2


def test_dynamic_group_state_case_insensitive(graph):
    body = graph.post("/groups", json=security_group(groupTypes=["DynamicMembership"], membershipRule=AUTOPILOT_RULE,
                                                     membershipRuleProcessingState="on")).json()
    assert body["membershipRuleProcessingState"] == "On"
    assert body["groupTypes"] == ["DynamicMembership"]
    paused = graph.post("/groups", json=security_group("c", groupTypes=["DynamicMembership"], membershipRule=AUTOPILOT_RULE,
                                                       membershipRuleProcessingState="PAUSED")).json()
    assert paused["membershipRuleProcessingState"] == "Paused"


def test_patch_and_delete_group(graph, emulator):
    group_id = graph.post("/groups", json=security_group()).json()["id"]
    answer = graph.patch("/groups/" + group_id, json={"description": "Autopilot devices"})
    assert answer.status_code == 204 and answer.content == b""
    assert emulator.tenant.get("groups", group_id)["description"] == "Autopilot devices"
    assert graph.patch("/groups/" + group_id, json={"nonsense": 1}).status_code == 400
    assert graph.patch("/groups/" + group_id, json={"id": "x"}).status_code == 400
    assert graph.delete("/groups/" + group_id).status_code == 204
    assert emulator.tenant.get("groups", group_id) is None
    assert graph.get("/groups/" + group_id).status_code == 404
    assert graph.delete("/groups/" + group_id).status_code == 404


def test_members_ref_add_duplicate_remove(graph, emulator):
    group_id = graph.post("/groups", json=security_group()).json()["id"]
    user = graph.get("/users").json()["value"][0]
    ref = {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + user["id"]}
    assert graph.post("/groups/%s/members/$ref" % group_id, json=ref).status_code == 204
    again = graph.post("/groups/%s/members/$ref" % group_id, json=ref)
    assert again.status_code == 400
    assert "already exist" in again.json()["error"]["message"]
    members = graph.get("/groups/%s/members" % group_id).json()["value"]
    assert [(m["id"], m["@odata.type"]) for m in members] == [(user["id"], "#microsoft.graph.user")]
    assert directory.member_ids(emulator.tenant, group_id) == {user["id"]}
    assert directory.group_ids_of(emulator.tenant, user["id"]) == {group_id}
    assert graph.delete("/groups/%s/members/%s/$ref" % (group_id, user["id"])).status_code == 204
    assert graph.delete("/groups/%s/members/%s/$ref" % (group_id, user["id"])).status_code == 404
    assert directory.member_ids(emulator.tenant, group_id) == set()
    unknown = {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + str(uuid.uuid4())}
    assert graph.post("/groups/%s/members/$ref" % group_id, json=unknown).status_code == 404


@pytest.mark.parametrize("rule", [
    '(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))',
    '(device.devicePhysicalIDs -any (_ -contains "[ZTDID]"))',
    'device.devicePhysicalIds -any _ -startsWith "[ZTDId]"',
])
def test_dynamic_membership_all_autopilot_devices(graph, emulator, rule):
    tenant = emulator.tenant
    ap = device_object(tenant, "AP-1", group_tag="Sales")
    plain = device_object(tenant, "PLAIN-1", ztd=False)
    group_id = graph.post("/groups", json=security_group(groupTypes=["DynamicMembership"], membershipRule=rule,
                                                         membershipRuleProcessingState="On")).json()["id"]
    members = graph.get("/groups/%s/members" % group_id).json()["value"]
    assert [m["id"] for m in members] == [ap["id"]]
    assert members[0]["@odata.type"] == "#microsoft.graph.device"
    assert plain["id"] not in directory.member_ids(tenant, group_id)


def test_dynamic_membership_follows_group_tag_change(graph, emulator):
    tenant = emulator.tenant
    device = device_object(tenant, "AP-2", group_tag="Sales", purchase_order="76222342342")
    sales = graph.post("/groups", json=security_group("Sales", groupTypes=["DynamicMembership"],
                                                      membershipRule='(device.devicePhysicalIds -any (_ -eq "[OrderID]:Sales"))',
                                                      membershipRuleProcessingState="On")).json()["id"]
    hr = graph.post("/groups", json=security_group("HR", groupTypes=["DynamicMembership"],
                                                   membershipRule='(device.devicePhysicalIds -any (_ -eq "[OrderID]:HR"))',
                                                   membershipRuleProcessingState="On")).json()["id"]
    po = graph.post("/groups", json=security_group("PO", groupTypes=["DynamicMembership"],
                                                   membershipRule='(device.devicePhysicalIds -any _ -eq "[PurchaseOrderId]:76222342342")',
                                                   membershipRuleProcessingState="On")).json()["id"]
    assert directory.group_ids_of(tenant, device["id"]) == {sales, po}
    device["physicalIds"] = [p for p in device["physicalIds"] if not p.startswith("[OrderId]")] + ["[OrderId]:HR"]
    assert directory.group_ids_of(tenant, device["id"]) == {hr, po}
    assert [m["id"] for m in graph.get("/groups/%s/members" % hr).json()["value"]] == [device["id"]]
    assert graph.get("/groups/%s/members" % sales).json()["value"] == []


def test_dynamic_group_members_cannot_be_written(graph, emulator):
    device = device_object(emulator.tenant, "AP-3")
    group_id = graph.post("/groups", json=security_group(groupTypes=["DynamicMembership"], membershipRule=AUTOPILOT_RULE,
                                                         membershipRuleProcessingState="On")).json()["id"]
    ref = {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + device["id"]}
    assert graph.post("/groups/%s/members/$ref" % group_id, json=ref).status_code == 400
    assert graph.delete("/groups/%s/members/%s/$ref" % (group_id, device["id"])).status_code == 400


def test_paused_group_freezes_members(graph, emulator):
    tenant = emulator.tenant
    first = device_object(tenant, "AP-4")
    group_id = graph.post("/groups", json=security_group(groupTypes=["DynamicMembership"], membershipRule=AUTOPILOT_RULE,
                                                         membershipRuleProcessingState="On")).json()["id"]
    assert graph.patch("/groups/" + group_id, json={"membershipRuleProcessingState": "Paused"}).status_code == 204
    device_object(tenant, "AP-5")
    assert directory.member_ids(tenant, group_id) == {first["id"]}


def test_devices_list_get_and_alternate_key(graph, emulator):
    device = device_object(emulator.tenant, "AP-6", group_tag="Sales")
    assert [d["id"] for d in graph.get("/devices").json()["value"]] == [device["id"]]
    assert graph.get("/devices/" + device["id"]).json()["physicalIds"] == device["physicalIds"]
    assert graph.get("/devices(deviceId='%s')" % device["deviceId"]).json()["id"] == device["id"]
    found = graph.get("/devices", params={"$filter": "displayName eq 'AP-6'"}).json()["value"]
    assert len(found) == 1
    tagged = graph.get("/devices", params={"$filter": "physicalIds/any(p:p eq '[OrderId]:Sales')"}).json()["value"]
    assert [d["id"] for d in tagged] == [device["id"]]


def test_count_segment_needs_consistency_level(graph):
    assert graph.get("/users/$count").status_code == 400
    answer = graph.get("/users/$count", headers={"ConsistencyLevel": "eventual"})
    assert answer.status_code == 200 and answer.text == "5"


def test_create_with_members_bind_and_user_rule(graph, emulator):
    users = graph.get("/users").json()["value"]
    bound = graph.post("/groups", json=security_group("Bound", **{"members@odata.bind": [
        "https://graph.microsoft.com/v1.0/directoryObjects/" + users[0]["id"],
        "https://graph.microsoft.com/v1.0/users/" + users[1]["id"]]})).json()
    assert directory.member_ids(emulator.tenant, bound["id"]) == {users[0]["id"], users[1]["id"]}
    marketing = graph.post("/groups", json=security_group("Marketing", groupTypes=["DynamicMembership"],
                                                          membershipRule='user.jobTitle -contains "marketing"',
                                                          membershipRuleProcessingState="On")).json()
    titles = {m["jobTitle"] for m in graph.get("/groups/%s/members" % marketing["id"]).json()["value"]}
    assert titles == {"Marketing Assistant", "Marketing Manager"}

"""Paging, $filter, $select, $top, $count, $orderby and the directory advanced-query rules."""

import pytest

from tests.graph_emulator import core, odata

EVENTUAL = {"ConsistencyLevel": "eventual"}


def add_groups(tenant, names):
    for index, name in enumerate(names):
        tenant.add("groups", {"id": "g%03d" % index, "displayName": name, "groupTypes": ["DynamicMembership"] if index % 2 else [],
                              "securityEnabled": True, "mailEnabled": False, "mailNickname": "g%d" % index,
                              "state": {"deviceImportStatus": "complete" if index % 3 else "error"}}, replicate=False)


def test_paging_with_next_link_and_page_size(graph, emulator, control):
    control("PATCH", "settings", {"page_size": 3})
    add_groups(emulator.tenant, ["G%d" % i for i in range(8)])
    first = graph.get("/groups", params={"$select": "id,displayName"}).json()
    assert len(first["value"]) == 3
    link = first["@odata.nextLink"]
    assert link.startswith(emulator.url + "/v1.0/groups?") and "$skiptoken=" in link and "$select=id,displayName" in link
    items = graph.get_all("/groups", params={"$select": "id,displayName"})
    assert [g["displayName"] for g in items] == ["G%d" % i for i in range(8)]
    assert set(items[0]) == {"id", "displayName"}
    last = graph.get(graph.get(link).json()["@odata.nextLink"]).json()
    assert len(last["value"]) == 2 and "@odata.nextLink" not in last


def test_top_lowers_page_size_and_directory_max(graph, emulator):
    add_groups(emulator.tenant, ["G%d" % i for i in range(5)])
    page = graph.get("/groups", params={"$top": "2"}).json()
    assert len(page["value"]) == 2 and "$top=2" in page["@odata.nextLink"]
    assert graph.get("/groups", params={"$top": "1000"}).status_code == 400
    assert graph.get("/groups", params={"$skip": "1"}).status_code == 400


@pytest.mark.parametrize("expr,expected", [
    ("displayName eq 'beta'", ["beta"]),
    ("startswith(displayName,'al')", ["alpha", "Alfred"]),
    ("displayName eq 'O''Brien'", ["O'Brien"]),
    ("displayName in ('alpha', 'beta')", ["alpha", "beta"]),
    ("groupTypes/any(c:c eq 'DynamicMembership')", ["beta", "O'Brien"]),
    ("(startswith(displayName,'a') or displayName eq 'beta') and securityEnabled eq true", ["alpha", "beta", "Alfred"]),
    ("state/deviceImportStatus eq 'error'", ["alpha", "O'Brien"]),
])
def test_filter_forms(graph, emulator, expr, expected):
    add_groups(emulator.tenant, ["alpha", "beta", "Alfred", "O'Brien"])
    answer = graph.get("/groups", params={"$filter": expr})
    assert answer.status_code == 200, answer.text
    assert [g["displayName"] for g in answer.json()["value"]] == expected


def test_unparseable_filter_is_400(graph):
    answer = graph.get("/groups", params={"$filter": "displayName eq"})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith("Invalid filter clause")
    assert graph.get("/groups", params={"$filter": "frobnicate(displayName,'a')"}).status_code == 400


def test_advanced_query_rules(graph, emulator):
    add_groups(emulator.tenant, ["alpha", "beta", "gamma"])
    for expr, expected in (("displayName ne 'alpha'", 2), ("not(displayName eq 'alpha')", 2), ("endswith(displayName,'TA')", 1)):
        refused = graph.get("/groups", params={"$filter": expr})
        assert refused.status_code == 400, expr
        assert refused.json()["error"]["code"] == "Request_UnsupportedQuery"
        assert graph.get("/groups", params={"$filter": expr}, headers=EVENTUAL).status_code == 400
        allowed = graph.get("/groups", params={"$filter": expr, "$count": "true"}, headers=EVENTUAL)
        assert allowed.status_code == 200, expr
        assert allowed.json()["@odata.count"] == expected == len(allowed.json()["value"])
    both = {"$filter": "startswith(displayName,'a')", "$orderby": "displayName"}
    assert graph.get("/groups", params=both).status_code == 400
    assert graph.get("/groups", params=dict(both, **{"$count": "true"}), headers=EVENTUAL).status_code == 200
    ignored = graph.get("/groups", params={"$count": "true"}).json()
    assert "@odata.count" not in ignored
    search = graph.get("/groups", params={"$search": '"displayName:amm"'})
    assert search.status_code == 400 and search.json()["error"]["code"] == "Request_UnsupportedQuery"
    found = graph.get("/groups", params={"$search": '"displayName:amm"'}, headers=EVENTUAL).json()["value"]
    assert [g["displayName"] for g in found] == ["gamma"]


def test_orderby_and_count(graph, emulator, control):
    control("PATCH", "settings", {"page_size": 2})
    add_groups(emulator.tenant, ["b", "c", "a"])
    answer = graph.get("/groups", params={"$orderby": "displayName desc", "$count": "true"}, headers=EVENTUAL).json()
    assert [g["displayName"] for g in answer["value"]] == ["c", "b"]
    assert answer["@odata.count"] == 3
    second = graph.get(answer["@odata.nextLink"], headers=EVENTUAL).json()
    assert [g["displayName"] for g in second["value"]] == ["a"] and "@odata.count" not in second


def test_unknown_query_option_is_400(graph):
    assert graph.get("/groups", params={"$frob": "1"}).status_code == 400


def _request(query, headers=None):
    return core.Request(method="GET", version="beta", path="/deviceManagement/things", query=query, headers=headers or {},
                        base_url="https://127.0.0.1:1")


def test_list_response_filter_ops_restrict_operators():
    tenant = core.Tenant(settings={"page_size": 10})
    items = [{"id": str(i), "serialNumber": "SN-%d" % i, "_hidden": 1} for i in range(3)]
    answer = odata.list_response(_request({"$filter": "contains(serialNumber,'-1')"}), tenant, items, filter_ops={"contains"})
    assert [i["id"] for i in answer.body["value"]] == ["1"]
    assert "_hidden" not in answer.body["value"][0]
    with pytest.raises(core.GraphHTTPError) as refused:
        odata.list_response(_request({"$filter": "serialNumber eq 'SN-1'"}), tenant, items, filter_ops={"contains"})
    assert refused.value.status == 400
    with pytest.raises(core.GraphHTTPError):
        odata.list_response(_request({"$filter": "contains(serialNumber,'1')"}), tenant, items, filter_ops=set())
    with pytest.raises(core.GraphHTTPError):
        odata.list_response(_request({"$orderby": "serialNumber"}), tenant, items, orderby={"displayName"})


def test_list_response_intune_top_is_a_total_limit():
    tenant = core.Tenant(settings={"page_size": 2})
    items = [{"id": str(i)} for i in range(10)]
    first = odata.list_response(_request({"$top": "3"}), tenant, items).body
    assert [i["id"] for i in first["value"]] == ["0", "1"]
    token = first["@odata.nextLink"].split("$skiptoken=")[1]
    second = odata.list_response(_request({"$top": "3", "$skiptoken": token}), tenant, items).body
    assert [i["id"] for i in second["value"]] == ["2"] and "@odata.nextLink" not in second
    counted = odata.list_response(_request({"$count": "true", "$skip": "8"}), tenant, items).body
    assert counted["@odata.count"] == 10 and [i["id"] for i in counted["value"]] == ["8", "9"]

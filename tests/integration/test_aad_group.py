# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aad_group and aad_group_info through the real ansible-playbook, verified from the emulator's state."""

import json
import uuid

import pytest

ALL_AUTOPILOT_RULE = '(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))'


def play(*tasks):
    return json.dumps([{"name": "aad_group test", "hosts": "localhost", "gather_facts": False, "tasks": list(tasks)}], indent=1)


def task(name, module="intune.autopilot.aad_group", register="out", ignore_errors=False, **args):
    entry = {"name": name, module: args, "register": register}
    if ignore_errors:
        entry["ignore_errors"] = True
    return entry


def failure(result, name):
    """The result of task ``name``, which must have failed (and been ignored)."""
    found = [t for t in result.tasks if t["task"] == name]
    assert len(found) == 1 and found[0]["status"] == "failed", result.output[-3000:]
    return found[0]["result"]


def groups_named(emulator, name):
    groups = emulator.state()["sets"].get("groups", {}).values()
    return [g for g in groups if g.get("displayName") == name]


def unique(prefix):
    return "%s %s" % (prefix, uuid.uuid4().hex[:8])


def four_steps(run_playbook, emulator, playbook):
    """check -> real -> check -> real: (results, writes per run)."""
    outcomes = []
    for check in (True, False, True, False):
        mark = emulator.mark()
        result = run_playbook(playbook, check=check, diff=True).assert_ok()
        outcomes.append((result, emulator.writes_since(mark)))
    return outcomes


@pytest.mark.parametrize("kind", ["dynamic", "assigned"])
def test_group_converges_in_four_steps(run_playbook, emulator, kind):
    name = unique("Autopilot devices" if kind == "dynamic" else "Pilot users")
    if kind == "dynamic":
        args = dict(display_name=name, description="All Autopilot devices", all_autopilot_devices=True)
    else:
        upn = "pilot.%s@contoso.example" % uuid.uuid4().hex[:6]
        emulator.seed({"sets": {"users": [{"id": str(uuid.uuid4()), "userPrincipalName": upn, "displayName": "Pilot"}]}})
        args = dict(display_name=name, description="Pilot users", members=[upn])
    outcomes = four_steps(run_playbook, emulator, play(task("Group", **args)))

    (check1, writes1), (real1, writes2), (check2, writes3), (real2, writes4) = outcomes
    assert check1.task("Group")["changed"] is True
    assert writes1 == [], "check mode must not write"
    assert "id" not in check1.task("Group")["group"]
    assert real1.task("Group")["changed"] is True
    assert [w["method"] for w in writes2][0] == "POST"
    assert check2.task("Group")["changed"] is False and writes3 == []
    assert real2.task("Group")["changed"] is False and writes4 == []

    found = groups_named(emulator, name)
    assert len(found) == 1, "exactly one group in the tenant"
    group = found[0]
    assert group["securityEnabled"] is True and group["mailEnabled"] is False
    assert group["description"] == args["description"]
    if kind == "dynamic":
        assert group["groupTypes"] == ["DynamicMembership"]
        assert group["membershipRule"] == ALL_AUTOPILOT_RULE
        assert group["membershipRuleProcessingState"] == "On"
    else:
        assert group["groupTypes"] == []
        listed = real2.task("Group")["members"]
        assert listed == args["members"]
        # membership read back through Graph by the info module, not by aad_group itself
        info = run_playbook(play(task("Info", module="intune.autopilot.aad_group_info", display_name=name,
                                      include_members=True))).assert_ok().task("Info")
        assert [m["userPrincipalName"] for m in info["groups"][0]["members"]] == args["members"]


def test_change_is_one_patch_with_the_changed_key(run_playbook, emulator):
    name = unique("Autopilot devices")
    run_playbook(play(task("Group", display_name=name, description="one", all_autopilot_devices=True))).assert_ok()
    mark = emulator.mark()
    result = run_playbook(play(task("Group", display_name=name, description="two", autopilot_group_tag="BER")),
                          diff=True).assert_ok()
    writes = emulator.writes_since(mark)
    assert [w["method"] for w in writes] == ["PATCH"]
    assert set(writes[0]["request_body"]) == {"description", "membershipRule"}
    out = result.task("Group")
    assert out["diff"]["before"]["description"] == "one" and out["diff"]["after"]["description"] == "two"
    group = groups_named(emulator, name)[0]
    assert group["membershipRule"] == '(device.devicePhysicalIds -any (_ -eq "[OrderID]:BER"))'
    assert group["description"] == "two"


def test_members_are_added_and_removed(run_playbook, emulator):
    name = unique("Pilot users")
    users = ["m%d.%s@contoso.example" % (i, uuid.uuid4().hex[:6]) for i in range(3)]
    emulator.seed({"sets": {"users": [{"id": str(uuid.uuid4()), "userPrincipalName": u, "displayName": u} for u in users]}})
    run_playbook(play(task("Group", display_name=name, members=users[:2]))).assert_ok()
    mark = emulator.mark()
    result = run_playbook(play(task("Group", display_name=name, members=[users[2], users[0]]))).assert_ok()
    writes = emulator.writes_since(mark)
    assert sorted(w["method"] for w in writes) == ["DELETE", "POST"]
    assert result.task("Group")["diff"]["before"]["members"] == sorted(users[:2])
    info = run_playbook(play(task("Info", module="intune.autopilot.aad_group_info", display_name=name,
                                  include_members=True))).assert_ok().task("Info")
    assert sorted(m["userPrincipalName"] for m in info["groups"][0]["members"]) == sorted([users[0], users[2]])


def test_duplicate_names_fail_and_name_the_count(run_playbook, emulator):
    name = unique("Twice")
    for _dummy in range(2):
        emulator.seed({"sets": {"groups": [{"id": str(uuid.uuid4()), "displayName": name, "mailEnabled": False,
                                            "mailNickname": "twice", "securityEnabled": True, "groupTypes": []}]}})
    mark = emulator.mark()
    result = run_playbook(play(task("Group", display_name=name, description="x", ignore_errors=True)))
    out = failure(result, "Group")
    assert "Found 2 groups named '%s'" % name in out["msg"]
    assert emulator.writes_since(mark) == []
    assert len(groups_named(emulator, name)) == 2


def test_absent_deletes_and_is_idempotent(run_playbook, emulator):
    name = unique("Gone")
    run_playbook(play(task("Group", display_name=name))).assert_ok()
    assert len(groups_named(emulator, name)) == 1
    mark = emulator.mark()
    check = run_playbook(play(task("Group", display_name=name, state="absent")), check=True).assert_ok()
    assert check.task("Group")["changed"] is True and emulator.writes_since(mark) == []
    real = run_playbook(play(task("Group", display_name=name, state="absent"))).assert_ok()
    assert real.task("Group")["changed"] is True
    assert groups_named(emulator, name) == []
    again = run_playbook(play(task("Group", display_name=name, state="absent"))).assert_ok()
    assert again.task("Group")["changed"] is False


@pytest.mark.parametrize("args, option", [
    (dict(membership_rule='(device.devicePhysicalIds -any (_ -eq "[OrderID]:X")'), "membership_rule"),
    (dict(membership_rule='(device.displayName -eq "unterminated)'), "membership_rule"),
    (dict(membership_rule='(device.displayName -eq "%s")' % ("x" * 3100)), "membership_rule"),
    (dict(mail_nickname="has space"), "mail_nickname"),
    (dict(autopilot_group_tag=' '), "autopilot_group_tag"),
    (dict(all_autopilot_devices=True, members=["someone@contoso.example"]), "members"),
    (dict(members=["nobody-%s@contoso.example" % uuid.uuid4().hex[:6]]), "members[0]"),
    (dict(membership_rule_processing_state="Sometimes"), "membership_rule_processing_state"),
])
def test_bad_input_fails_before_any_write(run_playbook, emulator, args, option):
    name = unique("Bad")
    mark = emulator.mark()
    result = run_playbook(play(task("Group", display_name=name, ignore_errors=True, **args)))
    out = failure(result, "Group")
    assert option in out["msg"]
    assert emulator.writes_since(mark) == []
    assert groups_named(emulator, name) == []


def test_check_mode_of_a_whole_play_against_missing_objects_writes_nothing(run_playbook, emulator):
    name = unique("Planned")
    mark = emulator.mark()
    result = run_playbook(play(
        task("Group", display_name=name, autopilot_group_tag="PLAN"),
        task("Info", module="intune.autopilot.aad_group_info", register="info", display_name=name),
    ), check=True).assert_ok()
    assert result.task("Group")["changed"] is True
    assert result.task("Info")["groups"] == []
    assert emulator.writes_since(mark) == []


def test_mail_nickname_is_updated_when_set_and_kept_when_omitted(run_playbook, emulator):
    """mailNickname is an updatable property (Graph v1.0 group-update.md): a new value is PATCHed, omitting it keeps it."""
    name = unique("Nickname group")
    run_playbook(play(task("Group", display_name=name, all_autopilot_devices=True))).assert_ok()
    derived = groups_named(emulator, name)[0]["mailNickname"]
    mark = emulator.mark()
    changed = run_playbook(play(task("Group", display_name=name, mail_nickname="ap-renamed")), diff=True).assert_ok()
    assert changed.task("Group")["changed"] is True
    assert changed.task("Group")["diff"] == {"before": {"mailNickname": derived}, "after": {"mailNickname": "ap-renamed"}}
    assert [(w["method"], w.get("request_body")) for w in emulator.writes_since(mark)] == [("PATCH", {"mailNickname": "ap-renamed"})]
    assert groups_named(emulator, name)[0]["mailNickname"] == "ap-renamed"
    again = run_playbook(play(task("Group", display_name=name))).assert_ok()
    assert again.task("Group")["changed"] is False and groups_named(emulator, name)[0]["mailNickname"] == "ap-renamed"


def test_assigned_group_made_dynamic_in_place_warns(run_playbook, emulator):
    """Setting a rule on an assigned group changes it in place (same id) and warns that its members are replaced."""
    name = unique("Was assigned")
    upn = "conv.%s@contoso.example" % uuid.uuid4().hex[:6]
    emulator.seed({"sets": {"users": [{"id": str(uuid.uuid4()), "userPrincipalName": upn, "displayName": "Conv"}]}})
    run_playbook(play(task("Group", display_name=name, members=[upn]))).assert_ok()
    [before] = groups_named(emulator, name)
    check = run_playbook(play(task("Group", display_name=name, all_autopilot_devices=True)), check=True).assert_ok()
    assert any("changes from assigned to dynamic membership: its current members are removed" in w
               for w in check.task("Group").get("warnings", [])), check.task("Group")
    real = run_playbook(play(task("Group", display_name=name, all_autopilot_devices=True))).assert_ok()
    assert real.task("Group")["changed"] is True
    [after] = groups_named(emulator, name)
    assert after["id"] == before["id"] and after["groupTypes"] == ["DynamicMembership"]
    assert after["membershipRule"] == ALL_AUTOPILOT_RULE


def test_members_on_a_dynamic_group_fail_before_any_write(run_playbook, emulator):
    """A dynamic group's members come from its rule: members on it are refused (also in check mode), nothing sent."""
    name = unique("Stays dynamic")
    run_playbook(play(task("Group", display_name=name, all_autopilot_devices=True))).assert_ok()
    upn = "dyn.%s@contoso.example" % uuid.uuid4().hex[:6]
    emulator.seed({"sets": {"users": [{"id": str(uuid.uuid4()), "userPrincipalName": upn, "displayName": "Dyn"}]}})
    for check in (True, False):
        mark = emulator.mark()
        result = run_playbook(play(task("Group", display_name=name, members=[upn], ignore_errors=True)), check=check)
        assert failure(result, "Group")["msg"].startswith("members: group '%s' has dynamic membership" % name)
        assert emulator.writes_since(mark) == []
    assert groups_named(emulator, name)[0]["groupTypes"] == ["DynamicMembership"]


def test_a_group_still_assigned_is_not_deleted_unless_told(run_playbook, emulator):
    """Issue 15: deleting a group an ESP or a deployment profile is assigned to is refused, naming the assignments,
    in check mode too; delete_assigned: true deletes it."""
    name = unique("Assigned group")
    esp, profile = unique("ESP"), unique("Profile")
    run_playbook(play(
        task("Group", display_name=name, all_autopilot_devices=True),
        task("ESP", module="intune.autopilot.intune_esp", display_name=esp, assignments=[{"group": name, "exclude": True}]),
        task("Profile", module="intune.autopilot.autopilot_profile", display_name=profile, assignments=[{"group": name}]),
    )).assert_ok()
    for check in (True, False):
        mark = emulator.mark()
        result = run_playbook(play(task("Group", display_name=name, state="absent", ignore_errors=True)), check=check)
        assert failure(result, "Group")["msg"] == (
            "state: group '%s' is still assigned to ESP '%s' (excluded), Autopilot deployment profile '%s' (included); "
            "remove those assignments first, or set delete_assigned: true to delete it anyway." % (name, esp, profile))
        assert emulator.writes_since(mark) == []
    reads = [e for e in emulator.requests_since(mark) if e["method"] == "GET" and "$expand" in e["path"]]
    assert len(reads) == 2, "one list of ESPs and one of profiles, assignments expanded"
    assert len(groups_named(emulator, name)) == 1
    result = run_playbook(play(task("Group", display_name=name, state="absent", delete_assigned=True))).assert_ok()
    assert result.task("Group")["changed"] is True and groups_named(emulator, name) == []


def test_a_group_assigned_to_nothing_is_deleted_after_one_look(run_playbook, emulator):
    name = unique("Unassigned group")
    run_playbook(play(task("Group", display_name=name))).assert_ok()
    mark = emulator.mark()
    run_playbook(play(task("Group", display_name=name, state="absent"))).assert_ok()
    assert [w["method"] for w in emulator.writes_since(mark)] == ["DELETE"]
    assert groups_named(emulator, name) == []


def graph(emulator, method, path, body=None):
    """A Graph call made by the test itself with the emulator's credentials, not by a module."""
    token = emulator.http.post("%s/%s/oauth2/v2.0/token" % (emulator.url, emulator.tenant_id), data={
        "grant_type": "client_credentials", "client_id": emulator.client_id, "client_secret": emulator.client_secret,
        "scope": "https://graph.microsoft.com/.default"}, timeout=30, verify=emulator.ca_path).json()["access_token"]
    answer = emulator.http.request(method, emulator.url + path, json=body, timeout=30, verify=emulator.ca_path,
                                   headers={"Authorization": "Bearer " + token})
    answer.raise_for_status()
    return answer.json() if answer.content else None


def test_a_rule_as_real_tenants_write_it_is_adopted(run_playbook, emulator):
    """Issue 13: a tag group made in the portal or by another tool, its rule written without the parentheses around
    the item condition and with other case; the module given the group tag changes nothing and writes nothing (today's
    code compared the text and rewrote the rule, which makes Entra re-evaluate the group)."""
    name = unique("Autopilot devices - Berlin")
    held = 'device.devicePhysicalIds -any _ -eq "[OrderID]:BER"'
    graph(emulator, "POST", "/v1.0/groups", {"displayName": name, "mailEnabled": False, "mailNickname": "apber",
                                             "securityEnabled": True, "groupTypes": ["DynamicMembership"],
                                             "membershipRule": held, "membershipRuleProcessingState": "On"})
    for check in (True, False):
        mark = emulator.mark()
        result = run_playbook(play(task("Group", display_name=name, autopilot_group_tag="BER")), check=check).assert_ok()
        assert result.task("Group")["changed"] is False
        assert emulator.writes_since(mark) == []
    assert groups_named(emulator, name)[0]["membershipRule"] == held

"""module_utils/_membership_rule.py: Entra's rule grammar, every problem at once, equivalence, Autopilot forms."""

import json
import os
import random

import pytest

from ansible_collections.intune.autopilot.plugins.module_utils import _membership_rule as mr

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
with open(os.path.join(ROOT, "tests", "data", "membership_rules.json"), encoding="utf-8") as handle:
    DATA = json.load(handle)["rules"]


@pytest.mark.parametrize("entry", DATA, ids=lambda e: e["rule"][:60])
def test_real_rules_verdict_and_autopilot_reading(entry):
    found = mr.problems(entry["rule"])
    if not entry["valid"]:
        assert found, entry["source"]
        with pytest.raises(mr.RuleError) as refused:
            mr.parse(entry["rule"])
        assert refused.value.problems == found
        return
    assert found == [], entry["source"]
    kind, tree = mr.parse(entry["rule"])
    assert kind == ("device" if "device." in entry["rule"] else "user")
    assert mr.group_tag(entry["rule"]) == entry.get("group_tag")
    assert mr.is_all_autopilot(entry["rule"]) is entry.get("all_autopilot", False)
    assert mr.equivalent(entry["rule"], "  %s\n" % entry["rule"].upper().replace("DEVICE.", "device.")
                         .replace("USER.", "user.")) is ("match" not in entry["rule"].lower())


def test_every_problem_at_once_with_positions():
    rule = '(user.departmnt -eq "a") and (user.city -contians "b") and (user.mail -eq Contoso) and (user.city -eq "c"'
    assert mr.problems(rule) == [
        "character 2: 'user.departmnt' is not a user property Entra supports in rules",
        "character 41: '-contians' is not a comparison operator; use one of -eq, -ne, -startsWith, -notStartsWith, "
        "-endsWith, -notEndsWith, -contains, -notContains, -match, -notMatch, -in, -notIn",
        "character 75: 'Contoso' is not a value: put text in double quotes (\"Contoso\")",
        "character 88: this '(' is not closed",
    ]
    multi = '(device.deviceOSType -eq "Windows") and\n  (device.devicePhysicalIds -any (_ -startswith "[ZTDId]") or\n' \
            '  (device.deviceModel -eq "x"))) ('
    assert mr.problems(multi) == [
        "line 3, character 32: this ')' has no matching '('",
        "line 3, character 34: '(' follows a complete condition; join conditions with -and or -or",
        "line 3, character 35: a condition such as user.department -eq \"Sales\" is expected here, found the end of "
        "the rule",
        "line 3, character 34: this '(' is not closed",
    ]


@pytest.mark.parametrize("rule, message", [
    ("", "the rule is empty"),
    ("   \n", "the rule is empty"),
    (None, "the rule must be a string, got NoneType"),
    ('user.mail \u2013ne null', "character 11: '\u2013' is an en dash; operators take a hyphen (-) or none, "
                                "strings straight double quotes"),
    ('user.city -eq \u201cParis\u201d', "character 15: '\u201c' is a curly quote"),
    ('user.city -eq "Paris', 'character 15: the quote " opened here is not closed'),
    ('user.city = "Paris"', "character 11: '=' cannot appear in a rule outside a string"),
    ('user.city -eq "a")', "character 18: this ')' has no matching '('"),
    ('(user.city -eq "a") (user.city -eq "b")', "character 21: '(' follows a complete condition; join conditions "
                                                "with -and or -or"),
    ('user.city -eq "a" -and', "character 23: a condition such as user.department -eq \"Sales\" is expected here, "
                               "found the end of the rule"),
    ('-and user.city -eq "a"', "character 1: a condition such as user.department -eq \"Sales\" is expected here, "
                               "found '-and'"),
    ('(accountEnabled -eq true)', "character 2: 'accountEnabled' has no object type: write user.accountEnabled or "
                                  "device.accountEnabled (Graph: No object type)"),
    ('group.city -eq "a"', "character 1: 'group.city' is an item of a multi-value property and appears only inside "
                           "-any or -all"),
    ('device.organizationalUnit -eq "x"', "character 1: 'device.organizationalUnit' is not a device property Entra "
                                          "supports in rules"),
    ('user.accountEnabled -contains true', "character 21: user.accountEnabled does not take -contains "
                                           "(a boolean property)"),
    ('user.assignedPlans -eq "x"', "character 20: user.assignedPlans does not take -eq (compared item by item with "
                                   "-any or -all)"),
    ('user.city -ge "a"', "character 11: user.city does not take -ge (a string property)"),
    ('device.deviceOSType -any (_ -eq "Windows")', "character 21: device.deviceOSType does not take -any "
                                                   "(a string property)"),
    ('user.memberOf -eq "x"', "character 15: user.memberOf does not take -eq (written memberOf -any "
                              "(group.objectId -in [...]))"),
    ('device.devicePhysicalIds -any (user.city -eq "x")', "character 32: inside this -any/-all the item is _, "
                                                          "not 'user.city'"),
    ('user.assignedPlans -any (_ -eq "x")', "character 26: inside this -any/-all the item is "
                                            "assignedPlan.capabilityStatus or assignedPlan.service or "
                                            "assignedPlan.servicePlanId, not '_'"),
    ('user.city -contains null', "character 21: null is compared with -eq or -ne only, not -contains"),
    ('user.city -eq ["a"]', "character 15: a list in [ ] goes with -in or -notIn, not -eq"),
    ('user.city -in "a"', "character 15: -in takes a list in [ ], found '\"a\"'"),
    ('user.city -in ["a" "b"]', "character 20: the list opened at character 15 needs ',' between items and ']' at "
                                "its end, found '\"b\"'"),
    ('user.city -in [true]', "character 16: a list item is a quoted string or a number, found 'true'"),
    ('user.city -eq system.now', "character 15: system.now is compared with user.employeeHireDate only"),
    ('user.employeeHireDate -ge system.now -plus 30', "character 44: -plus takes an ISO 8601 duration such as P30D, "
                                                      "found '30'"),
    ('user.city -match "(a"', "character 18: the regular expression \"(a\" is invalid: missing ), unterminated "
                              "subpattern at position 0"),
    ('Direct Reports for "manager"', "character 20: Direct Reports for takes the manager's object id in double "
                                     "quotes, found '\"manager\"'"),
    ('Direct Reports for "aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb" -and user.city -eq "a"',
     "character 59: a Direct Reports rule cannot be combined with other conditions"),
    ("user.memberOf -any (group.objectId -in ['a']) -or user.city -eq \"x\"",
     "character 1: memberOf cannot be combined with other conditions (groups-dynamic-rule-member-of)"),
    ('(device.displayName -eq "a") -and (user.city -eq "b")',
     "the rule mixes user properties (character 36) and device properties (character 2); a rule selects either "
     "users or devices"),
    ('user.city -eq "%s"' % ("x" * 3060), "the rule has 3076 characters; Entra allows at most 3072"),
    ("(" * 51 + 'user.city -eq "a"' + ")" * 51, "character 51: more than 50 parentheses or -not are nested here"),
    ("-not " * 51 + 'user.city -eq "a"', "character 251: more than 50 parentheses or -not are nested here"),
])
def test_problem_messages(rule, message):
    found = mr.problems(rule)
    assert any(p.startswith(message) for p in found), found


def test_regular_expressions_only_faults_dotnet_shares_are_refused():
    for pattern in (r"^(?<year>\d{4})$", r"^\p{L}+$", r"(?<=a+)b", r"^[^./]+\.[^./]+@(?>justice\.gc\.ca|ombudsman)$"):
        assert mr.problems('user.city -match "%s"' % pattern) == [], pattern
    for pattern in ("*@domain.ext", "a{2}{3}", "[z-a]", "[abc", "a)"):
        assert mr.problems('user.city -notMatch "%s"' % pattern), pattern


def test_problems_never_raises_on_garbage():
    rng = random.Random(7)
    alphabet = list('()[],"\'`\\-_. \n\t$') + [
        "and", "or", "-not", "-eq", "user.", "device.", "_", "x", "null", "5", "-any", "system.now", "-plus", "P1D",
        "Direct Reports for", "\u2013"]
    for unused in range(3000):
        text = "".join(rng.choice(alphabet) for unused in range(rng.randint(0, 25)))
        result = mr.problems(text)
        assert isinstance(result, list) and all(isinstance(p, str) for p in result)
        assert mr.equivalent(text, text + " ") is (not result)


def test_deep_rules_are_checked_without_crashing():
    assert mr.problems("(" * 50 + 'user.city -eq "a"' + ")" * 50) == []
    deep = "(-not " * 50 + 'user.city -eq "a"' + ")" * 50
    assert mr.problems(deep) == [] and mr.parse(deep)[1] == ("cmp", "user.city", "eq", ("str", "a"))


def test_parse_returns_the_documented_tree():
    kind, tree = mr.parse('(device.deviceOSType -EQ "Windows") AND -not (device.devicePhysicalIDs -Any '
                          '(_ -startsWith "[ZTDId]")) and device.deviceModel in ["A", "b", "a"]')
    assert kind == "device"
    assert tree == ("and", frozenset([
        ("cmp", "device.deviceostype", "eq", ("str", "windows")),
        ("not", ("any", "device.devicephysicalids", ("cmp", "_", "startswith", ("str", "[ztdid]")))),
        ("cmp", "device.devicemodel", "in", ("list", frozenset([("str", "a"), ("str", "b")]))),
    ]))
    assert mr.parse('Direct Reports for "AAAAAAAA-0000-1111-2222-BBBBBBBBBBBB"') == (
        "user", ("reports", "aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb"))
    assert mr.parse("user.employeeHireDate -ge (system.now -minus p30d)")[1] == (
        "cmp", "user.employeehiredate", "ge", ("now", "minus", "P30D"))


@pytest.mark.parametrize("a, b", [
    ('(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))', 'device.devicephysicalids any _ STARTSWITH "[ZTDID]"'),
    ('(device.devicePhysicalIds -any (_ -eq "[OrderID]:BER"))', '((device.devicePhysicalIDs -Any (_ -Eq "[orderid]:ber")))'),
    ('(user.city -eq "a") -and (user.city -eq "b") -and (user.city -eq "c")',
     'user.city eq "c" and (user.city eq "b" and user.city eq "a")'),
    ('(user.city -eq "a") -or (user.city -eq "b")', '(user.city -eq "b")\n    or\n(user.city -eq "a")\n'),
    ('user.city -in ["Lagos", "Abuja"]', "user.city -in ['abuja', 'LAGOS', 'Abuja']"),
    ('user.mail -ne null', 'user.mail -ne $null'),
    ('-not -not (user.city -eq "a")', 'user.city -eq "a"'),
    ('user.city -eq "a" -and user.city -eq "a"', 'user.city -eq "a"'),
    ('user.department -eq "Sa\\"les"', 'user.department -eq "sa`"LES"'),
    ('user.mailNickName -eq "x"', 'user.mailnickname -eq "x"'),
    ('user.displayName -match "^Da.*"', 'user.displayname -MATCH "^Da.*"'),
])
def test_equivalent_rules(a, b):
    first, second = a, b
    assert mr.equivalent(first, second) and mr.equivalent(second, first)


@pytest.mark.parametrize("a, b", [
    ('(device.devicePhysicalIds -any (_ -eq "[OrderID]:BER"))', '(device.devicePhysicalIds -any (_ -eq "[OrderID]:MUC"))'),
    ('(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))', '(device.devicePhysicalIDs -any (_ -contains "[ZTDid]"))'),
    ('(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))', '(device.devicePhysicalIDs -all (_ -startsWith "[ZTDid]"))'),
    ('user.city -match "\\d"', 'user.city -match "\\D"'),
    ('user.city -match "^Da"', 'user.city -match "^da"'),
    ('user.city -eq "a" -and user.city -eq "b"', 'user.city -eq "a" -or user.city -eq "b"'),
    ('user.city -eq "a" -or user.city -eq "b" -and user.city -eq "c"',
     '(user.city -eq "a" -or user.city -eq "b") -and user.city -eq "c"'),
    ('user.city -eq "a"', '-not (user.city -eq "a")'),
    ('user.city -eq "a"', 'user.city -eq "a "'),
    ('user.accountEnabled -eq true', 'user.accountEnabled -eq "true"'),
    ('user.city -eq null', 'user.city -eq "null"'),
    ('user.objectId -ne null', 'device.objectId -ne null'),
    ('user.city -eq "a"', None),
    ('user.city -eq "a', 'user.city -eq "a" '),
])
def test_not_equivalent_rules(a, b):
    first, second = a, b
    assert not mr.equivalent(first, second) and not mr.equivalent(second, first)


def test_equivalent_identity_and_none():
    assert mr.equivalent(None, None)
    assert mr.equivalent('user.city -eq "a', 'user.city -eq "a')


@pytest.mark.parametrize("rule, tag", [
    ('(device.devicePhysicalIds -any (_ -eq "[OrderID]:BER"))', "BER"),
    ('device.devicePhysicalIds -any _ -eq "[OrderID]:Sales Team"', "Sales Team"),
    ('DEVICE.DEVICEPHYSICALIDS ANY (_ EQ "[ORDERID]:ber")', "ber"),
    ('((device.devicePhysicalIDs -any (_ -in ["[OrderID]:Kiosk"])))', "Kiosk"),
    ('device.devicePhysicalIds -any (_ -eq "[OrderID]:a:b")', "a:b"),
    ('(device.devicePhysicalIds -any (_ -eq "[OrderID]:"))', None),
    ('(device.devicePhysicalIds -any _ -startsWith "[OrderID]:F1.A1")', None),
    ('(device.devicePhysicalIds -any _ -contains "[OrderID]:PAW")', None),
    ('(device.devicePhysicalIds -any (_ -match "^\\[OrderID\\]:BER$"))', None),
    ('(device.devicePhysicalIds -all (_ -eq "[OrderID]:BER"))', None),
    ('device.devicePhysicalIds -any (_ -in ["[OrderID]:A", "[OrderID]:B"])', None),
    ('(device.devicePhysicalIds -any (_ -eq "[PurchaseOrderId]:76222342342"))', None),
    ('(device.devicePhysicalIds -any (_ -eq "[OrderID]:A")) -or (device.devicePhysicalIds -any (_ -eq "[OrderID]:B"))',
     None),
    ('(device.devicePhysicalIds -any (_ -eq "[OrderID]:A")) -and (device.deviceOSType -eq "Windows")', None),
    ('-not (device.devicePhysicalIds -any (_ -eq "[OrderID]:A"))', None),
    ('(device.devicePhysicalIds -any (_ -eq "[OrderID]:BER")', None),
    ('(user.proxyAddresses -any (_ -eq "[OrderID]:BER"))', None),
    (None, None),
])
def test_group_tag(rule, tag):
    assert mr.group_tag(rule) == tag


@pytest.mark.parametrize("rule, expected", [
    ('(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))', True),
    ('(device.devicePhysicalIDs -any (_ -contains "[ZTDID]"))', True),
    ('device.devicePhysicalIDs -any _ -startsWith "[ZTDId]"', True),
    ('device.devicephysicalids any _ contains "[ztdid]"', True),
    ('(device.devicePhysicalIds -any (_ -eq "[ZTDId]"))', False),
    ('(device.devicePhysicalIds -any (_ -startsWith "[ZTDId]:"))', False),
    ('(device.devicePhysicalIDs -all (_ -startsWith "[ZTDid]"))', False),
    ('(device.devicePhysicalIDs -any (_ -notStartsWith "[ZTDid]"))', False),
    ('(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]")) -and (device.deviceOSType -eq "Windows")', False),
    ('(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]")', False),
    ('(device.devicePhysicalIds -any (_ -eq "[OrderID]:BER"))', False),
])
def test_is_all_autopilot(rule, expected):
    assert mr.is_all_autopilot(rule) is expected


def test_quote_builds_a_string_the_parser_reads_back():
    for text in ('BER', 'a"b', "O'Brien", "tab\there"):
        rule = "device.devicePhysicalIds -any (_ -eq %s)" % mr.quote("[OrderID]:" + text)
        assert mr.problems(rule) == []
        assert mr.group_tag(rule) == text

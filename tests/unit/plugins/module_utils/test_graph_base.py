# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_graph_base: collected problems, OData literals, GUIDs, the one wait helper. No network."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.intune.autopilot.plugins.module_utils._graph_base import (
    EngineError, Problems, WaitTimeout, clean, is_guid, odata_quote, wait_for)


def test_problems_fail_once_naming_every_problem_in_order():
    problems = Problems()
    problems.check()   # nothing to report: no error
    problems.add("selected_apps[0]: no app named 'x' was found.")
    problems.extend(["priority: must be 1 or greater.", "selected_apps[0]: no app named 'x' was found.", ""])
    assert len(problems) == 2 and bool(problems)
    with pytest.raises(EngineError) as err:
        problems.check()
    assert err.value.msg == ("2 problems, found before any change: (1) selected_apps[0]: no app named 'x' was found. "
                             "(2) priority: must be 1 or greater.")
    assert err.value.extra == {"problems": problems.items}


def test_one_problem_is_the_message_itself():
    problems = Problems()
    problems.add("members[0]: no user named 'a@b.c' was found.")
    with pytest.raises(EngineError) as err:
        problems.check()
    assert err.value.msg == "members[0]: no user named 'a@b.c' was found."


def test_odata_literals_guids_and_clean():
    assert odata_quote("O'Brien") == "'O''Brien'"
    assert is_guid("11111111-1111-1111-1111-111111111111") and not is_guid("1111") and not is_guid(None)
    assert clean({"@odata.context": "x", "@odata.type": "y", "id": "1"}) == {"@odata.type": "y", "id": "1"}


def test_wait_for_shares_a_deadline_and_works_while_waiting():
    now, polls = [0.0], []

    def sleep(seconds):
        now[0] += seconds
    with pytest.raises(WaitTimeout) as err:
        wait_for(lambda: (False, "1 pending"), 100, "the import", interval=1, max_interval=1, sleep=sleep,
                 clock=lambda: now[0], deadline=3.0, on_poll=polls.append)
    assert err.value.last_seen == "1 pending" and "last seen: 1 pending" in err.value.msg
    assert now[0] == pytest.approx(3.0) and polls == ["1 pending"] * 3

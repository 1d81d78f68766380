# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every layer above the HTTP client shares: the error a module reports, collected problems, OData
literals, GUIDs and the one wait helper.

Internal to this collection; it may change in any release.

The layers, lowest first (a file imports only from layers below it):

1. ``_graph_client`` (HTTP, paging, ``$batch``, retries) and its token acquisition: no resource knowledge;
2. this file: no Graph call at all;
3. name resolution (``_graph_lookup``), assignment targets, membership rules;
4. the engine (``_graph_resource``) and the bulk device engine;
5. ``_graph_module`` (the Ansible edge) and the modules.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import time

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_guid(value):
    return isinstance(value, str) and bool(GUID_RE.match(value))


def odata_quote(value):
    """A string literal for ``$filter``: single quotes doubled, as OData requires."""
    return "'%s'" % str(value).replace("'", "''")


def clean(obj):
    """The object as Graph returned it, without ``@odata.context``."""
    if not isinstance(obj, dict):
        return obj
    return dict((k, v) for k, v in obj.items() if k != "@odata.context")


class EngineError(Exception):
    """A failure the module reports as it is: bad input, ambiguity, a timeout, a Graph error in context.

    ``extra`` goes into the module result beside ``msg`` (``status``, ``request_id``, ``problems``, ...).
    """

    def __init__(self, msg, **extra):
        super(EngineError, self).__init__(msg)
        self.msg = msg
        self.extra = extra


class Problems(object):
    """Every problem of a task's input, collected so that one failure names them all, before any write.

    ``add`` one message per problem (in the user's terms: the option, the CSV line, the serial); ``check()``
    raises one :class:`EngineError` whose ``msg`` lists them and whose result carries them as ``problems``.
    """

    def __init__(self):
        self.items = []

    def add(self, message):
        if message and message not in self.items:
            self.items.append(message)

    def extend(self, messages):
        for message in messages:
            self.add(message)

    def __bool__(self):
        return bool(self.items)

    __nonzero__ = __bool__

    def __len__(self):
        return len(self.items)

    def check(self):
        if not self.items:
            return
        if len(self.items) == 1:
            raise EngineError(self.items[0], problems=list(self.items))
        raise EngineError("%d problems, found before any change: %s" % (
            len(self.items), " ".join("(%d) %s" % (n, p) for n, p in enumerate(self.items, 1))), problems=list(self.items))


class WaitTimeout(EngineError):
    """A bounded wait ran out; ``last_seen`` is what the last look saw (it is in the message too)."""

    def __init__(self, msg, last_seen=None, **extra):
        super(WaitTimeout, self).__init__(msg, last_seen=last_seen, **extra)
        self.last_seen = last_seen


def wait_for(check, timeout, what, interval=2.0, max_interval=15.0, sleep=time.sleep, clock=time.time,
             deadline=None, on_poll=None):
    """Call ``check()`` until it reports done or the time is up; the one wait mechanism of the collection.

    ``check`` returns ``(done, seen)``: ``seen`` describes the last observation; it is returned when done and goes
    into the timeout message, so a user knows what was still missing. The interval grows by half each try up to
    ``max_interval`` (``max_interval=interval`` polls at a fixed rate). ``deadline`` (a ``clock()`` value) bounds
    the wait instead of ``timeout`` seconds from now, so that several waits can share one budget. ``on_poll(seen)``
    runs after each look that was not done, before sleeping: work that goes on while waiting (progress, a refused
    sync sent again, clean-up writes). Raises :class:`WaitTimeout`.
    """
    if deadline is None:
        deadline = clock() + timeout
    seen = None
    while True:
        done, seen = check()
        if done:
            return seen
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout("Timed out after %ss waiting for %s; last seen: %s" % (timeout, what, seen), last_seen=seen)
        if on_poll is not None:
            on_poll(seen)
            remaining = deadline - clock()
        sleep(max(0.0, min(interval, remaining)))
        interval = min(interval * 1.5, max_interval)

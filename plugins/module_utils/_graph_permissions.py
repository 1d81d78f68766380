# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What to grant when Graph answers 403: the Graph application permission each kind of call needs.

Internal to this collection; it may change in any release.

The HTTP client knows no resource; GraphModule hands :func:`error_hint` to it, and code that turns a ``$batch``
answer into an error passes it to ``GraphError.from_parts``. Each row is the least-privileged application
permission on the operation's page in microsoftgraph/microsoft-graph-docs-contrib, read then write: for Intune
api-reference/beta/api/intune-enrollment-*.md, intune-rbac-rolescopetag-*.md,
intune-policyset-deviceandappmanagementassignmentfilter-*.md and intune-apps-mobileapp-*.md; for the directory
api-reference/v1.0/api/group-*.md, user-get.md and device-get.md.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from urllib.parse import urlsplit  # controller only (tests/config.yml): Python 3

# (path prefix, permission for GET, permission for every other method); the first matching prefix wins.
PERMISSIONS = (
    ('/deviceManagement/roleScopeTags', 'DeviceManagementRBAC.Read.All', 'DeviceManagementRBAC.ReadWrite.All'),
    ('/deviceManagement/assignmentFilters', 'DeviceManagementConfiguration.Read.All',
     'DeviceManagementConfiguration.ReadWrite.All'),
    ('/deviceManagement', 'DeviceManagementServiceConfig.Read.All', 'DeviceManagementServiceConfig.ReadWrite.All'),
    ('/deviceAppManagement', 'DeviceManagementApps.Read.All', 'DeviceManagementApps.ReadWrite.All'),
    ('/groups', 'Group.Read.All', 'Group.ReadWrite.All'),
    ('/users', 'User.Read.All', 'User.ReadWrite.All'),
    ('/devices', 'Device.Read.All', 'Device.ReadWrite.All'),
)

# group-post-groups.md: Group.Create suffices to create; group-post-members.md / group-delete-members.md: least
# privilege per member type.
CREATE_GROUP = 'Group.Create or Group.ReadWrite.All'
MEMBERS = 'GroupMember.ReadWrite.All with User.ReadWrite.All (user members) or Device.ReadWrite.All (device members)'


def needed_permission(method, url):
    """The permission a call needs (``url`` absolute or relative to the version root), or None when unknown."""
    path = re.sub(r'^/(beta|v1\.0)(?=/)', '', urlsplit(url or '').path)
    for prefix, read, write in PERMISSIONS:
        if path == prefix or path.startswith(prefix + '/') or path.startswith(prefix + '('):
            if (method or 'GET').upper() == 'GET':
                return read
            if prefix == '/groups' and path == '/groups':
                return CREATE_GROUP
            if prefix == '/groups' and '/members' in path:
                return MEMBERS
            return write
    return None


def error_hint(status, method, url):
    """The sentence appended to a 403 message, naming the permission to grant; '' for other answers."""
    needed = needed_permission(method, url) if status == 403 else None
    if not needed:
        return ''
    return (' The app registration probably lacks the Microsoft Graph application permission %s (or it was added '
            'without admin consent); see the permissions in the module documentation.' % needed)

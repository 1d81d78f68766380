# -*- coding: utf-8 -*-
# Copyright: (c) 2026, intune.autopilot contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What makes an enrollment configuration an Enrollment Status Page, and the built-in default one.

Internal to this collection; it may change in any release. Shared by intune_esp and intune_esp_info.

ESPs live among all enrollment configurations (graph-api.md 1.1). A real tenant's default ESP carries the id
"{tenantId}_DefaultWindows10EnrollmentCompletionPageConfiguration" and may report deviceEnrollmentConfigurationType
"windows10EnrollmentCompletionPageConfiguration" (field observation, graph-api.md 1.6), so the id suffix is checked
as well as the type.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

PATH = "/deviceManagement/deviceEnrollmentConfigurations"
ESP_TYPE = "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration"
ESP_TYPE_NAME = "windows10EnrollmentCompletionPageConfiguration"
DEFAULT_TYPE = "defaultWindows10EnrollmentCompletionPageConfiguration"
DEFAULT_SUFFIX = "_DefaultWindows10EnrollmentCompletionPageConfiguration"


def is_default(item):
    return (item.get("deviceEnrollmentConfigurationType") == DEFAULT_TYPE
            or str(item.get("id") or "").endswith(DEFAULT_SUFFIX))


def is_esp(item):
    return ((item.get("@odata.type") or "").lstrip("#").rsplit(".", 1)[-1] == ESP_TYPE_NAME
            or item.get("deviceEnrollmentConfigurationType") in (ESP_TYPE_NAME, DEFAULT_TYPE))


def is_custom_esp(item):
    return is_esp(item) and not is_default(item)

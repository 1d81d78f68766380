"""The realistic profile's Intune behaviours: new groups unknown to assignment for a while."""

import pytest

from tests.graph_emulator import profiles
from tests.graph_emulator.tests.intune_helpers import Client
from tests.graph_emulator.tests.test_autopilot import AAD, group_target
from tests.graph_emulator.tests.test_enrollment import ESP_TYPE, target

ESPS = "/deviceManagement/deviceEnrollmentConfigurations"
PROFILES = "/deviceManagement/windowsAutopilotDeploymentProfiles"


@pytest.fixture
def client():
    """A realistic tenant (time scale 60) without throttling."""
    return Client(profiles.resolve({"profile": "realistic", "throttle": False}))


def test_an_assignment_to_a_group_created_moments_ago_is_refused_until_intune_knows_it(client):
    """60 service seconds are one second of the clock; both assignment routes, include and exclusion."""
    esp = client.post(ESPS, {"@odata.type": ESP_TYPE, "displayName": "ESP"}).body
    profile = client.post(PROFILES, {"@odata.type": AAD, "displayName": "Profile"}).body
    new = client.group("Autopilot devices")
    calls = (
        (ESPS + "/%s/assign" % esp["id"], {"enrollmentConfigurationAssignments": [target("groupAssignmentTarget", new)]}),
        (ESPS + "/%s/assign" % esp["id"], {"enrollmentConfigurationAssignments": [target("exclusionGroupAssignmentTarget", new)]}),
        (PROFILES + "/%s/assignments" % profile["id"], group_target(new)),
    )
    for path, body in calls:
        refused = client.post(path, body)
        assert refused.status == 400 and refused.error_code == "BadRequest"
        assert refused.error_text.startswith("An error has occurred - Operation ID")
    assert client.tenant.get(PROFILES.rsplit("/", 1)[1], profile["id"])["_assignments"] == {}
    client.advance(1.01)
    assert [client.post(path, body).status for path, body in calls] == [204, 204, 201]


def test_groups_planted_through_the_control_api_and_best_case_groups_are_known_at_once(client):
    seeded = client.tenant.add("groups", {"id": "seeded-group", "displayName": "Old group", "groupTypes": []})
    profile = client.post(PROFILES, {"@odata.type": AAD, "displayName": "Profile"}).body
    assert client.post(PROFILES + "/%s/assignments" % profile["id"], group_target(seeded["id"])).status == 201
    best = Client()
    other = best.post(PROFILES, {"@odata.type": AAD, "displayName": "Profile"}).body
    assert best.post(PROFILES + "/%s/assignments" % other["id"], group_target(best.group("New"))).status == 201

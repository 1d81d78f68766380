"""Windows Autopilot resources: deployment profiles, imported and registered device identities, settings and sync.

The routes live in :mod:`autopilot_profiles` and :mod:`autopilot_devices`; importing this module registers both.
"""

from . import autopilot_devices, autopilot_profiles


def seed(tenant):
    """A fresh tenant's Autopilot state: no profiles, no devices, the settings singleton, the tickers."""
    autopilot_profiles.seed(tenant)
    autopilot_devices.seed(tenant)


def register(tenant):
    """The time-driven state machines (import records, profile assignment status, sync); safe to call twice."""
    autopilot_devices.register(tenant)

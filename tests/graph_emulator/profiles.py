"""Timing profiles: ``realistic`` (the default) and ``best-case``, and the emulator's time scale.

A profile is a set of settings (``PROFILES``) laid over :data:`DEFAULTS`, then the settings given explicitly
(CLI options, ``Emulator(**settings)``, the body of ``POST /_emulator/reset``) over both. ``best-case`` is
:data:`DEFAULTS` itself: every delay zero or short, every refusal that only shows over time switched off, which
is what the emulator did before the profiles existed and what tests that need instant behaviour choose.
``realistic`` holds the service's documented or reported behaviour; each value below names its source.

Delays are stated in the service's own seconds and elapse on the emulator's clock divided by ``time_scale``
(:meth:`core.Tenant.delay`): with ``time_scale`` 60, 300 seconds of dynamic-membership processing take 5 seconds.
The clock itself is not scaled: every date Graph returns (``createdDateTime``, ``deploymentProfileAssignedDateTime``,
``lastSyncDateTime`` ...) is wall-clock time plus the ``/_emulator/advance`` offset, so a client that compares
Graph's dates with its own clock stays right. Rules a client computes from dates or honours in seconds are
therefore not scaled either: the 10-minute sync rule (``sync_min_interval``), the throttling windows and their
``Retry-After``, token lifetimes, latency and injected faults.

Realistic values and their sources (service seconds unless said otherwise):

==============================  =========  ========================================================================
setting                         realistic  source
==============================  =========  ========================================================================
time_scale                      60         emulator choice: one emulator second is one service minute
import_delay                    90         MicrosoftDocs/memdocs autopilot/add-devices.md: "Importing can take
                                           several minutes" (a CSV in the portal); one device through Graph took 62
                                           and 95 seconds (andrew-s-taylor/WindowsAutopilotInfo issues 29 and 22)
sync_duration                   180        same page: the sync "might take a few minutes to complete"
devices_listed_after_sync       true       same page: after the import, Sync, then "Refresh the view to see the new
                                           devices"
replication_delay               30         microsoft-graph-docs-contrib api-reference/v1.0/api/group-get.md
                                           (replication delay after create); field: kayasax/EasyPIM issue 22 (a new
                                           group known to another service after 5 to more than 30 seconds)
membership_processing_delay     300        MicrosoftDocs/entra-docs docs/identity/users/manage-dynamic-group.md:
                                           changes "typically process within a few hours ... can take more than 24
                                           hours"; MicrosoftDocs/azure-docs groups-troubleshooting.md: small
                                           directories see changes "in less than a few minutes"
membership_update_delay         300        the same pages (beta resources/membershipruleprocessingstatus.md:
                                           "Incremental object changes are processed perpetually")
group_assignment_delay          300        no Intune figure is published; field reports of a new group refused by
                                           another service for seconds to minutes (kayasax/EasyPIM issue 22,
                                           microsoftgraph/msgraph-bicep-types issue 193, Microsoft365DSC PR 7167);
                                           the long end of that range
profile_assignment_delay        600        MicrosoftDocs/IntuneDocs issue 2262 (about 15 minutes observed from
profile_sync_delay              300        registration to Assigned; Microsoft: no estimate can be given);
                                           memdocs autopilot/tutorial/includes/verify-autopilot-profile-assignment.md
                                           ("Intune will periodically check for new devices in the assigned groups")
device_deletion_delay           180        memdocs add-devices.md: "The deletion process can take a few minutes to
                                           complete"; autopilot/includes/deregister-autopilot-device.md
delete_refused_with_user        true       deregister-autopilot-device.md: "Unassign user", then Delete
batch_any_order                 true       microsoft-graph-docs-contrib concepts/json-batching.md: the server
                                           processes requests "in the most efficient order"; "Individual responses
                                           might appear in a different order"
batch_write_needs_body          true       microsoftgraph/msgraph-sdk-dotnet issue 2628; Softeria/ms-365-mcp-server
                                           issue 677 and PR 683 (a batch-level 400, none of the requests run)
keep_import_id                  false      MSEndpointMgr/Intune issue 71 (the one real create answer on record)
import_answer_as_seen           true       the same answer: ``hardwareIdentifier`` empty, ``productKey`` = the id
throttle                        true       microsoft-graph-docs-contrib includes/throttling-intune-enrollment.md,
                                           concepts/throttling-limits.md (see behaviours.py)
==============================  =========  ========================================================================
"""

NAMES = ("realistic", "best-case")
DEFAULT_PROFILE = "realistic"

DEFAULTS = {
    "profile": "best-case",
    "time_scale": 1.0,
    "page_size": 100,
    "replication_delay": 0.0,
    "import_delay": 5.0,
    "profile_assignment_delay": 5.0,
    "profile_sync_delay": 0.0,
    "sync_duration": 10.0,
    "sync_min_interval": 600.0,
    "keep_import_id": True,
    "import_answer_as_seen": False,
    "device_visible_delay": 0.0,
    "devices_listed_after_sync": False,
    "device_filter_unsupported": False,
    "device_deletion_delay": 0.0,
    "delete_refused_with_user": False,
    "membership_processing_delay": 0.0,
    "membership_update_delay": 0.0,
    "group_assignment_delay": 0.0,
    "batch_any_order": False,
    "batch_write_needs_body": False,
    "sync_retry_after": False,
    "intune_licensed": True,
    "latency_ms": 0,
    "throttle": False,
    "throttle_window": 20,
    "throttle_requests": 1000,
    "throttle_writes": 100,
    "throttle_tenant_size": "S",
    "throttle_directory_ru": 0,
    "throttle_directory_window": 10,
    "throttle_directory_writes": 3000,
    "throttle_directory_write_window": 150,
    "token_lifetime": 3599,
    "domain": "contoso.onmicrosoft.com",
    "seed": 0,
}

PROFILES = {
    "best-case": {},
    "realistic": {
        "time_scale": 60.0,
        "import_delay": 90.0,
        "sync_duration": 180.0,
        "devices_listed_after_sync": True,
        "replication_delay": 30.0,
        "membership_processing_delay": 300.0,
        "membership_update_delay": 300.0,
        "group_assignment_delay": 300.0,
        "profile_assignment_delay": 600.0,
        "profile_sync_delay": 300.0,
        "device_deletion_delay": 180.0,
        "delete_refused_with_user": True,
        "batch_any_order": True,
        "batch_write_needs_body": True,
        "keep_import_id": False,
        "import_answer_as_seen": True,
        "throttle": True,
    },
}


def resolve(given):
    """The settings of a tenant: :data:`DEFAULTS`, then the profile ``given['profile']`` names, then ``given``."""
    given = dict((k, v) for k, v in (given or {}).items() if v is not None)
    name = given.get("profile", DEFAULT_PROFILE)
    if name not in PROFILES:
        raise ValueError("profile must be one of %s, not %r" % (", ".join(NAMES), name))
    settings = dict(DEFAULTS)
    settings.update(PROFILES[name])
    settings.update(given)
    settings["profile"] = name
    scale = float(settings["time_scale"])
    if scale <= 0:
        raise ValueError("time_scale must be greater than 0, not %r" % settings["time_scale"])
    return settings

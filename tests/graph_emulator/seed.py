"""A fresh tenant: a few users on a contoso-like domain, then whatever the Intune resource modules seed.

A resource module may define ``register(tenant)`` (tickers and other per-tenant hooks; called for every
tenant, also one loaded from a state file) and ``seed(tenant)`` (objects of a fresh tenant; called only
when ``populate`` is true). User objects carry the properties ``GET /users/{id}`` returns by default
(api-reference/v1.0/api/user-get.md: businessPhones, displayName, givenName, jobTitle, mail,
mobilePhone, officeLocation, preferredLanguage, surname, userPrincipalName, id).
"""

import importlib
import uuid

from .core import Tenant

USERS = (
    ("Adele", "Vance", "Retail Manager"),
    ("Alex", "Wilber", "Marketing Assistant"),
    ("Megan", "Bowen", "Marketing Manager"),
    ("Lynne", "Robbins", "Planner"),
    ("Isaiah", "Langer", "Sales Rep"),
)
RESOURCE_MODULES = ("enrollment", "autopilot")


def _user(given, surname, title, domain):
    upn = "%s%s@%s" % (given, surname[0], domain)
    return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, upn)), "businessPhones": [], "displayName": "%s %s" % (given, surname),
            "givenName": given, "jobTitle": title, "mail": upn, "mobilePhone": None, "officeLocation": None,
            "preferredLanguage": "en-US", "surname": surname, "userPrincipalName": upn, "accountEnabled": True}


def _modules():
    for name in RESOURCE_MODULES:
        yield importlib.import_module("%s.%s" % (__package__, name))


def new_tenant(tenant_id=None, settings=None, populate=True):
    tenant = Tenant(tenant_id, settings)
    for module in _modules():
        if hasattr(module, "register"):
            module.register(tenant)
    if populate:
        domain = tenant.settings.get("domain", "contoso.onmicrosoft.com")
        for given, surname, title in USERS:
            tenant.add("users", _user(given, surname, title, domain), replicate=False)
        for module in _modules():
            if hasattr(module, "seed"):
                module.seed(tenant)
    return tenant

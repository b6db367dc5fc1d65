"""A local Confluence stand-in (Cloud v2 + v1, Data Center v1, web UI) serving a sample or generated site.

See docs/CONTRACTS.md ("Stand-in") for how the connector tests and benchmarks use it.
"""

from .access import Grant, Group, SiteAccess, enterprise_access, load_access, synthetic_access
from .faults import DEFAULT_AUTH, Auth, Faults, Stats
from .oauth import OAuthServer
from .quirks import Quirks
from .server import StandIn
from .site import Page, Site, Space, load_site
from .synthetic import site_from_bodies, synthetic_site
from .synthetic_extras import with_synthetic_extras

__all__ = [
    "DEFAULT_AUTH",
    "Auth",
    "Faults",
    "Grant",
    "Group",
    "OAuthServer",
    "Page",
    "Quirks",
    "Site",
    "SiteAccess",
    "Space",
    "StandIn",
    "Stats",
    "enterprise_access",
    "load_access",
    "load_site",
    "site_from_bodies",
    "synthetic_access",
    "synthetic_site",
    "with_synthetic_extras",
]

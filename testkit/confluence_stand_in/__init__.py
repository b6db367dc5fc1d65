"""A local Confluence stand-in (Cloud v2 + v1, Data Center v1, web UI) serving a sample or generated site.

See docs/CONTRACTS.md ("Stand-in") for how the connector tests and benchmarks use it.
"""

from .faults import DEFAULT_AUTH, Auth, Faults, Stats
from .server import StandIn
from .site import Page, Site, Space, load_site
from .synthetic import site_from_bodies, synthetic_site

__all__ = [
    "DEFAULT_AUTH",
    "Auth",
    "Faults",
    "Page",
    "Site",
    "Space",
    "StandIn",
    "Stats",
    "load_site",
    "site_from_bodies",
    "synthetic_site",
]

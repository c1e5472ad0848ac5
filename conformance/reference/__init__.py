"""The embedded reference server: six platform profiles that imitate real platforms.

It never imports the suite's probes, and the probes never import it: a verdict is only worth
something if the checks and the implementation were written apart.
"""

from conformance.reference.app import create_app
from conformance.reference.profile import Profile, load_profile, profile_names
from conformance.reference.server import ReferenceServer
from conformance.reference.variations import (
    check_variations,
    variation_catalogue,
    with_variations,
)

__all__ = [
    "Profile",
    "ReferenceServer",
    "check_variations",
    "create_app",
    "load_profile",
    "profile_names",
    "variation_catalogue",
    "with_variations",
]

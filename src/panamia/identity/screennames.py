"""Screennames: 3-24 of a-z 0-9 _, unique regardless of case and of look-alikes, some names
kept for the platform.

Two names that look alike share a confusable skeleton (Unicode TR39, computed by ICU's spoof
checker): `marcobeats` and `rnarcobeats`, `he1lo` and `hello`, Cyrillic `раnа` and `pana`.
`users.screenname_skeleton` is unique, so the database keeps look-alikes apart.
"""

import re

from icu import SpoofChecker

from panamia.schemas import single_line_problem

SCREENNAME = re.compile(r"[a-z0-9_]{3,24}")
RESERVED = frozenset({
    "admin", "administrator", "api", "auth", "pets", "www", "mail", "root", "support",
    "help", "about", "settings", "account", "profile", "profiles", "signin", "signout",
    "login", "logout", "static", "health", "docs", "dev", "system", "panamia", "moderator",
    "staff", "null", "undefined", "me", "directory", "articles", "notifications",
})
_SPOOF_CHECKER = SpoofChecker()


def screenname_skeleton(name: str) -> str:
    """The TR39 skeleton of a screenname as stored (lower case): what
    `users.screenname_skeleton` holds for it. Every writer of `users.screenname` sets both."""
    return _SPOOF_CHECKER.getSkeleton(0, name.lower())


_RESERVED_SKELETONS = frozenset(screenname_skeleton(name) for name in RESERVED)


def screenname_problem(name: str) -> str | None:
    """Why `name` cannot be a screenname, or None when its form is fine."""
    if problem := single_line_problem(name):
        return problem
    if not SCREENNAME.fullmatch(name.lower()):
        return "Use 3 to 24 characters: lowercase letters, digits and underscores."
    if screenname_skeleton(name) in _RESERVED_SKELETONS:
        return "That name is reserved."
    return None

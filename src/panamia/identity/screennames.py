"""Screennames: 3-24 of a-z 0-9 _, unique regardless of case, some names kept for the platform."""

import re

SCREENNAME = re.compile(r"^[a-z0-9_]{3,24}$")
RESERVED = frozenset({
    "admin", "administrator", "api", "auth", "pets", "www", "mail", "root", "support",
    "help", "about", "settings", "account", "profile", "profiles", "signin", "signout",
    "login", "logout", "static", "health", "docs", "dev", "system", "panamia", "moderator",
    "staff", "null", "undefined", "me", "directory", "articles", "notifications",
})


def screenname_problem(name: str) -> str | None:
    """Why `name` cannot be a screenname, or None when its form is fine."""
    if not SCREENNAME.match(name.lower()):
        return "Use 3 to 24 characters: lowercase letters, digits and underscores."
    if name.lower() in RESERVED:
        return "That name is reserved."
    return None

"""Renting things between members for a fee: items, time ranges, deposits and claims."""

NAME = "rentals"
DEFAULT_PORT = 8003


def public_url(settings) -> str:
    """Where members reach the rentals pages (`RENTALS_URL`)."""
    return settings.public_url(NAME, f"http://localhost:{DEFAULT_PORT}")

"""The pets sidecar client, and a database whose transactions commit for the race tests."""

from tests.pets.bookings.fixtures import (  # noqa: F401
    bookings_database_url,
    committed,
    committed_settings,
)
from tests.pets.factories import pets  # noqa: F401

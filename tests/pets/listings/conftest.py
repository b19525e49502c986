"""The pets sidecar client, shared with the other pets tests."""

from tests.pets.factories import pets  # noqa: F401

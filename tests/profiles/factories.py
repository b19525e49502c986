"""Members: a PostgreSQL user with a MongoDB profile."""

from datetime import UTC, datetime, timedelta

from panamia.identity.dependencies import Principal
from panamia.profiles import documents, repository, service
from panamia.profiles.documents import ProfileDocument, ProfileFields
from panamia.resources import Resources
from tests.identity.factories import create_user, unique_email


async def create_member(
    resources: Resources, *, screenname: str | None = None, name: str | None = None,
    email: str | None = None, **profile,
) -> str:
    """A user whose profile holds `profile` (fields by their Python names)."""
    user_id = await create_user(
        resources, email=email or unique_email(), screenname=screenname, name=name
    )
    raw = await service.ensure_profile(resources, user_id, name)
    if profile:
        editable = set(ProfileFields.model_fields)
        current = ProfileDocument.model_validate(raw).model_dump(include=editable)
        fields = ProfileFields.model_validate({**current, **profile})
        await repository.set_if_version(
            resources.mongo, user_id, raw["version"], documents.stored(fields)
        )
    return user_id


def principal(user_id: str, *, is_admin: bool = False) -> Principal:
    """Who a service call acts as, without going through a session cookie."""
    return Principal(
        id=user_id, email=f"{user_id}@example.org", name=None, image=None, screenname=None,
        role="user", is_admin=is_admin, session_id="test",
        expires=datetime.now(UTC) + timedelta(days=1),
    )

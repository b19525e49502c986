"""Where our ActivityPub objects live. Actor ids use the user id, never the screenname, so
they stay put when a screenname changes; articles are their page's URL."""

from urllib.parse import urlsplit

from panamia.db.postgres import new_id
from panamia.settings import Settings

AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
ACTIVITY_JSON = "application/activity+json"
INSTANCE_PATH = "/ap/actor"


def host(settings: Settings) -> str:
    """AUTH_URL's host[:port], the domain of our handles."""
    return urlsplit(settings.auth_url).netloc.lower()


def actor(settings: Settings, user_id: str) -> str:
    return f"{settings.auth_url}/ap/users/{user_id}"


def key_id(actor_uri: str) -> str:
    return f"{actor_uri}#main-key"


def instance(settings: Settings) -> str:
    return settings.auth_url + INSTANCE_PATH


def shared_inbox(settings: Settings) -> str:
    return f"{settings.auth_url}/ap/inbox"


def article(settings: Settings, slug: str) -> str:
    return f"{settings.auth_url}/articles/{slug}"


def person_page(settings: Settings, screenname: str) -> str:
    return f"{settings.auth_url}/people/{screenname}"


def new_activity(settings: Settings) -> str:
    return f"{settings.auth_url}/ap/activities/{new_id()}"


def local_user_id(settings: Settings, uri: str) -> str | None:
    """The user id in one of our actor URIs, else None."""
    prefix = f"{settings.auth_url}/ap/users/"
    if not uri.startswith(prefix):
        return None
    rest = uri.removeprefix(prefix)
    return rest if rest and "/" not in rest and "#" not in rest else None


def local_slug(settings: Settings, uri: str) -> str | None:
    prefix = f"{settings.auth_url}/articles/"
    if not uri.startswith(prefix):
        return None
    rest = uri.removeprefix(prefix)
    return rest if rest and "/" not in rest and "?" not in rest else None


def domain_of(uri: str) -> str:
    return urlsplit(uri).netloc.lower()

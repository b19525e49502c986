"""A notification as a member reads it: one sentence, who did what to what, and where the
link goes. The page and the mails both say it this way."""

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from panamia.identity import people
from panamia.identity.schemas import Person
from panamia.notifications import repository
from panamia.notifications.schemas import ActivityObject, Notification
from panamia.resources import Resources
from panamia.settings import Settings

SYSTEM = "Pana MIA"
# What the pets sidecar shows: a path in such an object's url is on the pets site.
PETS_OBJECTS = frozenset({"Listing", "Booking", "Review"})

# (activity, object type, status) -> the words between the actor and the thing. A `{}` is
# where the thing's name goes; without one it follows the words. A phrase starting with a
# capital letter is a sentence of its own, without the actor.
PHRASES = {
    ("Offer", "Booking", None): "asked to book",
    ("Accept", "Booking", None): "confirmed your booking of",
    ("Reject", "Booking", None): "declined your request to book",
    ("Update", "Booking", "completed"): "Your stay at {} is complete: leave a review",
    ("Update", "Booking", "cancelled"): "cancelled the booking of",
    ("Update", "Booking", "expired"): "Your request to book {} expired unanswered",
    ("Offer", "Rental", None): "asked to rent",
    ("Accept", "Rental", None): "confirmed your rental of",
    ("Reject", "Rental", None): "declined your request to rent",
    ("Offer", "Item", None): "made an offer on",
    ("Create", "Message", None): "sent you a message about",
    ("Invite", "Article", None): "invited you to co-write",
    ("Like", "Article", None): "liked",
    ("Like", "Review", None): "liked",
    ("Follow", "Person", None): "follows you",
    ("Follow", "Profile", None): "follows you",
}
# Said instead when the thing has no name: its summary follows (a message's first words).
UNNAMED = {("Create", "Message"): "sent you a message:"}
# Any other activity: these words, then the thing.
VERBS = {
    "Create": "added", "Update": "updated", "Like": "liked", "Follow": "started following",
    "Invite": "invited you to", "Offer": "made an offer on", "Accept": "accepted",
    "Reject": "declined", "Announce": "shared",
}
# Someone's answer is awaited (the mails are about these).
NEEDS_ACTION = frozenset({("Offer", None), ("Accept", "Booking"), ("Accept", "Rental"),
                          ("Invite", "Article"), ("Create", "Message")})


def needs_action(activity_type: str, about: ActivityObject) -> bool:
    return bool({(activity_type, None), (activity_type, about.type)} & NEEDS_ACTION)


@dataclass(frozen=True)
class Sentence:
    """`before` + the thing (`what`, linked when there is `url`) + `after`; the actor's name
    leads it unless `actor` is None, and links to their profile only when it is public."""

    actor: str | None
    actor_url: str | None
    before: str
    what: str
    after: str
    url: str | None

    @property
    def text(self) -> str:
        words = (self.actor, self.before, self.what)
        return " ".join(word for word in words if word) + self.after


def absolute_url(settings: Settings, about: ActivityObject) -> str | None:
    """The object's url, a path made whole on the site that shows it; None when there is no
    usable link."""
    url = about.url
    if not url or "\\" in url:
        return None
    if url.startswith("/") and not url.startswith("//"):
        site = settings.pets_url if about.type in PETS_OBJECTS else settings.auth_url
        return site + url
    try:
        return url if urlsplit(url).scheme in ("http", "https") else None
    except ValueError:
        return None


def _thing(about: ActivityObject) -> str:
    named = about.name or about.summary
    if named:
        return named
    if about.type == "Person":
        return "you"
    return "your " + _words(about.type)


def _a(words: str) -> str:
    return f"{'an' if words[0] in 'aeiou' else 'a'} {words}"


def _words(name: str) -> str:
    """`RentalClaim`: `rental claim`."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower()


def _deadline(when: datetime) -> str:
    return f" Answer by {when:%a} {when.day} {when:%b}, {when:%H:%M} UTC."


def _actor(actor: Person | None, public: bool) -> tuple[str, str | None]:
    if actor is None:
        return SYSTEM, None
    name = actor.name or (f"@{actor.screenname}" if actor.screenname else "Someone")
    return name, f"/people/{actor.screenname}" if public and actor.screenname else None


def describe(notification: Notification, actor: Person | None, *, public: bool,
             settings: Settings) -> Sentence:
    """`actor` is None for the system; `public` says whether the actor's profile is public."""
    about = notification.object
    name, actor_url = _actor(actor, public)
    url = absolute_url(settings, about)
    if url and about.type in ("Person", "Profile") and not public:
        url = None  # a follower's profile that is not public would answer 404
    phrase = ((None if about.name else UNNAMED.get((notification.type, about.type)))
              or PHRASES.get((notification.type, about.type, about.status))
              or PHRASES.get((notification.type, about.type, None))
              or VERBS.get(notification.type)
              or f"sent you {_a(_words(notification.type))} about")
    what = "" if phrase.endswith(" you") else _thing(about)
    before, _, after = phrase.partition("{}")
    ends_a_sentence = not after and what.endswith((".", "!", "?"))
    after = after.rstrip() + ("" if ends_a_sentence else ".")
    if about.end_time and notification.type == "Offer":
        after += _deadline(about.end_time)
    if phrase[0].isupper():
        return Sentence(None, None, before.strip(), what, after, url)
    return Sentence(name, actor_url, before, what, after, url)


async def describe_all(resources: Resources, items: list[Notification]) -> list[Sentence]:
    """Actors' names from PostgreSQL and whose profile is public from MongoDB, one query
    each for all of `items`."""
    actor_ids = [n.actor_id for n in items if n.actor_id]
    known = await people.people_by_id(resources, actor_ids)
    public = await repository.with_public_profile(resources.mongo, sorted(set(actor_ids)))
    return [describe(n, people.person_or_deleted(known, n.actor_id) if n.actor_id else None,
                     public=n.actor_id in public, settings=resources.settings)
            for n in items]

"""Notifications as ActivityStreams activities: one typed model per activity type.

`targetId` is the recipient (as upstream stored it), `actorId` who acted (null for the
system). Each type says which objects it can be about and whether it needs an actor,
so a `Follow` without a follower or a `Like` of a booking fails where it is written.
"""

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field, TypeAdapter, model_validator

from panamia.schemas import Schema

ObjectType = Literal[
    "Article", "Profile", "Person", "Listing", "Booking", "Review", "Note",
    "Invite", "Offer", "Follow",
]
Id = Annotated[str, Field(min_length=1, max_length=64)]


class ActivityObject(Schema):
    type: ObjectType
    id: Id
    url: str | None = Field(None, max_length=2048)
    summary: str | None = Field(None, max_length=500)


class ActivityBase(Schema):
    objects: ClassVar[frozenset[str]]
    needs_actor: ClassVar[bool] = True

    actor_id: Id | None = None
    target_id: Id
    object: ActivityObject

    @model_validator(mode="after")
    def _fits_type(self):
        if self.needs_actor and self.actor_id is None:
            raise ValueError(f"a {self.type} needs an actorId")
        if self.object.type not in self.objects:
            raise ValueError(f"a {self.type} cannot be about a {self.object.type}; "
                             f"one of {', '.join(sorted(self.objects))}")
        return self


class Create(ActivityBase):
    """Something new concerns the recipient (a review of their listing, a system note)."""
    type: Literal["Create"] = "Create"
    objects = frozenset({"Article", "Profile", "Listing", "Booking", "Review", "Note"})
    needs_actor = False


class Update(ActivityBase):
    type: Literal["Update"] = "Update"
    objects = frozenset({"Article", "Profile", "Listing", "Booking", "Note"})
    needs_actor = False


class Like(ActivityBase):
    type: Literal["Like"] = "Like"
    objects = frozenset({"Article", "Profile", "Review"})


class Follow(ActivityBase):
    type: Literal["Follow"] = "Follow"
    objects = frozenset({"Person", "Profile"})


class Invite(ActivityBase):
    """Invited to co-author or review an article."""
    type: Literal["Invite"] = "Invite"
    objects = frozenset({"Article"})


class Offer(ActivityBase):
    """A booking request for the recipient's listing."""
    type: Literal["Offer"] = "Offer"
    objects = frozenset({"Booking"})


class Accept(ActivityBase):
    type: Literal["Accept"] = "Accept"
    objects = frozenset({"Invite", "Offer", "Follow", "Booking"})


class Reject(ActivityBase):
    type: Literal["Reject"] = "Reject"
    objects = frozenset({"Invite", "Offer", "Follow", "Booking"})


class Announce(ActivityBase):
    """A boost or a site-wide announcement (no actor)."""
    type: Literal["Announce"] = "Announce"
    objects = frozenset({"Article", "Note"})
    needs_actor = False


Activity = Annotated[
    Create | Update | Like | Follow | Invite | Offer | Accept | Reject | Announce,
    Field(discriminator="type"),
]
ACTIVITY = TypeAdapter(Activity)
ActivityType = Literal[
    "Create", "Update", "Like", "Follow", "Invite", "Offer", "Accept", "Reject", "Announce"
]


class Notification(Schema):
    id: str
    type: ActivityType
    actor_id: str | None
    target_id: str
    object: ActivityObject
    read: bool
    read_at: datetime | None
    created_at: datetime


class NotificationPage(Schema):
    items: list[Notification]
    page: int
    page_size: int
    has_more: bool


class UnreadCount(Schema):
    count: int


class MarkedRead(Schema):
    marked: int

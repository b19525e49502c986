"""Notifications as ActivityStreams activities: one typed model per activity type.

`targetId` is the recipient (as upstream stored it), `actorId` who acted (null for the
system). Each type says which objects it can be about and whether it needs an actor,
so a `Follow` without a follower or a `Like` of a booking fails where it is written.

Sidecars bring object types of their own (an exchange's `Item`, `Bid` or `Transaction`, a
`Rental`) without a change here: any name in ActivityStreams' style (capitalised words run
together) that is not one of the platform's own, always with a `url` to the thing, and only
in the activities a sidecar's notices use (`SidecarObjects`).
"""

from datetime import datetime
from typing import Annotated, ClassVar, Literal, get_args

from pydantic import Field, TypeAdapter, model_validator

from panamia.schemas import Schema

PlatformObjectType = Literal[
    "Article", "Profile", "Person", "Listing", "Booking", "Review", "Note",
    "Invite", "Offer", "Follow",
]
PLATFORM_OBJECTS = frozenset(get_args(PlatformObjectType))
# `Item`, `RentalClaim`: one to four capitalised words run together.
ObjectType = Annotated[str, Field(pattern=r"^[A-Z][a-z]+(?:[A-Z][a-z]+){0,3}$", max_length=40)]
Id = Annotated[str, Field(min_length=1, max_length=64)]


class ActivityObject(Schema):
    """`url` may be a path: on the pets sidecar for a `Listing`, `Booking` or `Review`, else
    on the main site. `name` is what a sentence calls it ("Cats among the books for 3–5
    Dec"), `status` what a step made of it (`completed`), `endTime` when it needs an
    answer by."""

    type: ObjectType
    id: Id
    url: str | None = Field(None, max_length=2048)
    summary: str | None = Field(None, max_length=500)
    name: str | None = Field(None, max_length=300)
    status: str | None = Field(None, pattern=r"^[a-z_]{1,40}$")
    end_time: datetime | None = None

    @property
    def from_sidecar(self) -> bool:
        return self.type not in PLATFORM_OBJECTS

    @model_validator(mode="after")
    def _linked(self):
        if self.from_sidecar and not (self.url or "").startswith(("https://", "http://")):
            raise ValueError(f"a {self.type} needs a url (http or https) to it: "
                             f"{', '.join(sorted(PLATFORM_OBJECTS))} are the platform's own")
        return self


class ActivityBase(Schema):
    objects: ClassVar[frozenset[str]]
    needs_actor: ClassVar[bool] = True
    # Whether a sidecar's own object types fit (see `SidecarObjects`).
    sidecar_objects: ClassVar[bool] = False

    actor_id: Id | None = None
    target_id: Id
    object: ActivityObject

    @model_validator(mode="after")
    def _fits_type(self):
        if self.needs_actor and self.actor_id is None:
            raise ValueError(f"a {self.type} needs an actorId")
        fits = self.object.type in self.objects or (self.object.from_sidecar
                                                    and self.sidecar_objects)
        if not fits:
            raise ValueError(f"a {self.type} cannot be about a {self.object.type}; "
                             f"one of {', '.join(sorted(self.objects))}"
                             + (" or a sidecar's own type" if self.sidecar_objects else ""))
        return self


class SidecarObjects:
    """Mixed into the activities a sidecar tells the other party of a deal (something new,
    changed, offered, accepted, declined): these may be about a sidecar's own object types."""

    sidecar_objects: ClassVar[bool] = True


class Create(SidecarObjects, ActivityBase):
    """Something new concerns the recipient (a review of their listing, a system note)."""
    type: Literal["Create"] = "Create"
    objects = frozenset({"Article", "Profile", "Listing", "Booking", "Review", "Note"})
    needs_actor = False


class Update(SidecarObjects, ActivityBase):
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


class Offer(SidecarObjects, ActivityBase):
    """A booking request for the recipient's listing."""
    type: Literal["Offer"] = "Offer"
    objects = frozenset({"Booking"})


class Accept(SidecarObjects, ActivityBase):
    type: Literal["Accept"] = "Accept"
    objects = frozenset({"Invite", "Offer", "Follow", "Booking"})


class Reject(SidecarObjects, ActivityBase):
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
    """As stored: its `type` may be one a later version writes, so it reads as any name in
    ActivityStreams' style."""

    id: str
    type: ObjectType = Field(examples=list(get_args(ActivityType)))
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


class EmailSettings(Schema):
    frequency: Literal["instant", "daily", "off"] = Field(
        description="instant: one mail each; daily: one digest a day; off: no mail")

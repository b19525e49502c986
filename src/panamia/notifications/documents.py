"""The `notifications` collection: one document per delivered activity.

`_id` is the id of the outbox event that carried it, so relaying the event twice
finds the document already there.
"""

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel

from panamia.notifications.schemas import Notification, ActivityBase

COLLECTION = "notifications"

INDEXES = {
    COLLECTION: [
        # "My unread, newest first" and the unread count.
        IndexModel([("targetId", ASCENDING), ("read", ASCENDING), ("createdAt", DESCENDING)],
                   name="ix_notifications_target_read_created"),
        # "All of mine, newest first"; also serves deleting a recipient's notifications.
        IndexModel([("targetId", ASCENDING), ("createdAt", DESCENDING)],
                   name="ix_notifications_target_created"),
    ]
}


def new_document(event_id: str, activity: ActivityBase, created_at: datetime) -> dict[str, Any]:
    return {
        "_id": event_id,
        **activity.model_dump(mode="json", by_alias=True),
        "read": False,
        "readAt": None,
        "createdAt": created_at,
    }


def from_document(document: dict[str, Any]) -> Notification:
    return Notification.model_validate({**document, "id": document["_id"]})

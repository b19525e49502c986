"""Queries on the `notifications` collection. Every read and write names the recipient."""

from datetime import datetime
from typing import Any

from pymongo import DESCENDING, ReturnDocument

from panamia.db.mongo import MongoDatabase
from panamia.notifications.documents import COLLECTION

# The main app's profile documents: a member with an active one has a public profile page.
PROFILES = "profiles"


async def insert_once(mongo: MongoDatabase, document: dict[str, Any]) -> None:
    """Insert unless a document with this `_id` exists; a replay leaves `read` alone."""
    fields = {k: v for k, v in document.items() if k != "_id"}
    await mongo[COLLECTION].update_one(
        {"_id": document["_id"]}, {"$setOnInsert": fields}, upsert=True
    )


async def page(
    mongo: MongoDatabase, target_id: str, *, unread_only: bool, skip: int, limit: int
) -> list[dict[str, Any]]:
    query: dict[str, Any] = {"targetId": target_id}
    if unread_only:
        query["read"] = False
    cursor = (mongo[COLLECTION].find(query)
              .sort([("createdAt", DESCENDING), ("_id", DESCENDING)]).skip(skip).limit(limit))
    return await cursor.to_list()


async def count_unread(mongo: MongoDatabase, target_id: str) -> int:
    return await mongo[COLLECTION].count_documents({"targetId": target_id, "read": False})


async def mark_read(
    mongo: MongoDatabase, target_id: str, notification_id: str, now: datetime
) -> dict[str, Any] | None:
    """The notification, now read (first `readAt` kept); None when the recipient has no such one."""
    collection = mongo[COLLECTION]
    found = await collection.find_one_and_update(
        {"_id": notification_id, "targetId": target_id, "read": False},
        {"$set": {"read": True, "readAt": now}},
        return_document=ReturnDocument.AFTER,
    )
    return found or await collection.find_one({"_id": notification_id, "targetId": target_id})


async def mark_all_read(mongo: MongoDatabase, target_id: str, now: datetime) -> int:
    result = await mongo[COLLECTION].update_many(
        {"targetId": target_id, "read": False}, {"$set": {"read": True, "readAt": now}}
    )
    return result.modified_count


async def unread_among(mongo: MongoDatabase, notification_ids: list[str]) -> list[dict[str, Any]]:
    """The unread ones of `notification_ids`, oldest first."""
    cursor = mongo[COLLECTION].find({"_id": {"$in": notification_ids}, "read": False})
    return sorted(await cursor.to_list(), key=lambda document: document["createdAt"])


async def with_public_profile(mongo: MongoDatabase, user_ids: list[str]) -> set[str]:
    """Which of `user_ids` have a public profile page; a link to anyone else's finds nothing."""
    if not user_ids:
        return set()
    cursor = mongo[PROFILES].find({"userId": {"$in": user_ids}, "active": True},
                                  {"userId": 1, "_id": 0})
    return {document["userId"] async for document in cursor}

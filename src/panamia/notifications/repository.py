"""Queries on the `notifications` collection. Every read and write names the recipient."""

from datetime import datetime
from typing import Any

from pymongo import DESCENDING, ReturnDocument

from panamia.db.mongo import MongoDatabase
from panamia.notifications.documents import COLLECTION


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

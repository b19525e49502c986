"""MongoDB access for `profiles`. Functions take the database and return raw documents."""

from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from panamia.db.mongo import MongoDatabase
from panamia.profiles.documents import COLLECTION


async def upsert_profile(
    db: MongoDatabase, user_id: str, defaults: dict[str, Any]
) -> dict | None:
    """One atomic upsert on the unique `userId` index: the existing profile, or a new one.

    Concurrent upserts of one missing key can lose the race to the unique index: MongoDB
    reports a duplicate key, SecantusDB answers no document (about one upsert in fifty when
    fifty race). Either way the winner's document is then there to read.
    """
    try:
        profile = await db[COLLECTION].find_one_and_update(
            {"userId": user_id}, {"$setOnInsert": defaults},
            upsert=True, return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError:
        profile = None
    return profile or await find_profile(db, user_id)


async def find_profile(db: MongoDatabase, user_id: str) -> dict | None:
    return await db[COLLECTION].find_one({"userId": user_id})


async def set_if_version(
    db: MongoDatabase, user_id: str, version: int, values: dict[str, Any]
) -> dict | None:
    """Apply `values` only if nobody saved since `version` was read; None if somebody did."""
    return await db[COLLECTION].find_one_and_update(
        {"userId": user_id, "version": version},
        {"$set": {**values, "version": version + 1}},
        return_document=ReturnDocument.AFTER,
    )


async def find_active(db: MongoDatabase, user_id: str) -> dict | None:
    return await db[COLLECTION].find_one({"userId": user_id, "active": True})


async def find_page(
    db: MongoDatabase, query: dict[str, Any], *, skip: int, limit: int
) -> list[dict]:
    cursor = (
        db[COLLECTION].find(query, {"searchWords": 0})
        .sort([("sortName", 1), ("_id", 1)]).skip(skip).limit(limit).batch_size(limit)
    )
    return await cursor.to_list(limit)

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


async def active_user_ids(db: MongoDatabase, user_ids: list[str]) -> set[str]:
    cursor = db[COLLECTION].find({"userId": {"$in": user_ids}, "active": True},
                                 {"userId": 1, "_id": 0})
    return {document["userId"] async for document in cursor}


async def find_page(
    db: MongoDatabase, query: dict[str, Any], sort: list[tuple[str, int]], *,
    skip: int, limit: int,
) -> list[dict]:
    cursor = (
        db[COLLECTION].find(query, {"searchWords": 0})
        .sort(sort).skip(skip).limit(limit).batch_size(limit)
    )
    return await cursor.to_list(limit)


async def count(db: MongoDatabase, query: dict[str, Any], *, limit: int) -> int:
    """How many documents match, counting no further than `limit`."""
    return await db[COLLECTION].count_documents(query, limit=limit)


async def count_categories(db: MongoDatabase, *, limit: int) -> list[dict]:
    """`{"_id": category, "count": n}` over active profiles, the most used first."""
    pipeline = [
        {"$match": {"active": True, "categories.0": {"$exists": True}}},
        {"$project": {"_id": 0, "categories": 1}},
        {"$unwind": "$categories"},
        {"$group": {"_id": "$categories", "count": {"$sum": 1}}},
        {"$sort": {"count": -1, "_id": 1}},
        {"$limit": limit},
    ]
    return await (await db[COLLECTION].aggregate(pipeline)).to_list(limit)

"""MongoDB access for `articles`. Functions take the database and return raw documents."""

from typing import Any

from pymongo import ReturnDocument

from panamia.articles.documents import COLLECTION
from panamia.db.mongo import MongoDatabase

SUMMARY = {"body": 0}


async def insert(db: MongoDatabase, document: dict[str, Any]) -> None:
    """Raises DuplicateKeyError when the slug is taken."""
    await db[COLLECTION].insert_one(document)


async def find_by_slug(db: MongoDatabase, slug: str) -> dict | None:
    return await db[COLLECTION].find_one({"slug": slug})


async def update_where(
    db: MongoDatabase, query: dict[str, Any], update: dict[str, Any]
) -> dict | None:
    """One conditional update; None when the article no longer matches `query`."""
    return await db[COLLECTION].find_one_and_update(
        query, update, return_document=ReturnDocument.AFTER
    )


async def find_page(
    db: MongoDatabase, query: dict[str, Any], sort: list[tuple[str, int]], *,
    skip: int, limit: int,
) -> list[dict]:
    cursor = (
        db[COLLECTION].find(query, SUMMARY).sort(sort).skip(skip).limit(limit)
        .batch_size(limit)  # the whole page in the first reply: one command, no getMore
    )
    return await cursor.to_list(limit)

"""Every MongoDB index, declared beside its documents and created idempotently.

Each content domain's `documents.py` exposes `INDEXES: dict[collection, list[IndexModel]]`,
listed here; a sidecar declares its own in its `Sidecar.mongo_indexes`. `create_index` on an
existing identical index changes nothing, so start-up, tests and the versioned MongoDB steps
can all call `ensure_indexes`.
"""

from pymongo import IndexModel

from panamia.articles import documents as article_documents
from panamia.db.mongo import MongoDatabase
from panamia.notifications import documents as notification_documents
from panamia.profiles import documents as profile_documents

CONTENT_INDEXES = (profile_documents.INDEXES, article_documents.INDEXES,
                   notification_documents.INDEXES)


def declared_indexes() -> dict[str, list[IndexModel]]:
    # Imported here: the registry builds services, which create these indexes at start-up.
    from panamia.sidecar import registry

    declared = [*CONTENT_INDEXES, *(s.mongo_indexes for s in registry.discover())]
    indexes: dict[str, list[IndexModel]] = {}
    for collections in declared:
        for collection, models in collections.items():
            indexes.setdefault(collection, []).extend(models)
    return indexes


async def ensure_indexes(db: MongoDatabase) -> None:
    for collection, models in declared_indexes().items():
        await db[collection].create_indexes(models)

"""Every MongoDB index, declared beside its documents and created idempotently.

Each content domain's `documents.py` exposes `INDEXES: dict[collection, list[IndexModel]]`;
list the module here. `create_index` on an existing identical index changes nothing, so
start-up, tests and the versioned MongoDB steps can all call `ensure_indexes`.
"""

from pymongo import IndexModel

from panamia.db.mongo import MongoDatabase

DOCUMENT_MODULES: tuple[str, ...] = (
    "panamia.profiles.documents", "panamia.articles.documents",
    "panamia.notifications.documents",
)


def declared_indexes() -> dict[str, list[IndexModel]]:
    from importlib import import_module

    indexes: dict[str, list[IndexModel]] = {}
    for module in DOCUMENT_MODULES:
        for collection, models in import_module(module).INDEXES.items():
            indexes.setdefault(collection, []).extend(models)
    return indexes


async def ensure_indexes(db: MongoDatabase) -> None:
    for collection, models in declared_indexes().items():
        await db[collection].create_indexes(models)

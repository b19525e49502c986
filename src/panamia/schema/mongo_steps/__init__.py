"""Versioned MongoDB steps: index definitions and document backfills.

Each step is a file beside this one, named and headed like a PostgreSQL migration
(`YYYYMMDDHHMMSS_snake_case.py`, docstring with Migration/Purpose/Ticket/Reversible),
defining `async def apply(db)` that takes a PyMongo `AsyncDatabase` and is idempotent:
there are no cross-database transactions, so a step interrupted after its work but before
its ledger entry runs again. `deploy` applies them after the PostgreSQL migrations, while
still holding the deploy lock, and records each in the `panamia_migrations` collection.
"""

import importlib.util
import inspect
from datetime import UTC, datetime
from pathlib import Path

from pymongo.errors import DuplicateKeyError

from panamia.db.mongo import MongoDatabase
from panamia.schema import ledger
from panamia.schema.files import MigrationFile, migration_files

STEPS_DIR = Path(__file__).parent
LEDGER_COLLECTION = "panamia_migrations"


def step_files(directory: Path = STEPS_DIR) -> list[MigrationFile]:
    return migration_files(directory)


async def ledger_rows(db: MongoDatabase) -> list[ledger.Row]:
    documents = await db[LEDGER_COLLECTION].find({}).sort("appliedAt", 1).to_list(None)
    return [
        ledger.Row(d["name"], d["checksum"], started_at=d["appliedAt"],
                   finished_at=d["appliedAt"], applied_steps_count=1,
                   applied_by=d.get("appliedBy", ""), allow_modified=d.get("allowModified", False))
        for d in documents
    ]


async def entries(db: MongoDatabase, directory: Path = STEPS_DIR) -> list[ledger.Entry]:
    steps = [(f.name, f.checksum) for f in step_files(directory)]
    return ledger.classify(steps, await ledger_rows(db))


def load_apply(step: MigrationFile):
    spec = importlib.util.spec_from_file_location(f"panamia_mongo_step_{step.name}", step.path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    apply = getattr(module, "apply", None)
    if not inspect.iscoroutinefunction(apply):
        raise TypeError(f"{step.path} must define `async def apply(db)`")
    return apply


async def apply_pending(db: MongoDatabase, directory: Path = STEPS_DIR, *,
                        allow_modified: bool = False, say=lambda _message: None) -> list[str]:
    """Apply the steps not yet in the ledger, oldest first; return their names."""
    await db[LEDGER_COLLECTION].create_index("name", unique=True)
    pending = {e.name for e in await entries(db, directory) if e.state == ledger.PENDING}
    applied = []
    for step in step_files(directory):
        if step.name not in pending:
            continue
        say(f"MongoDB: applying {step.name}")
        await load_apply(step)(db)
        try:
            await db[LEDGER_COLLECTION].insert_one({
                "name": step.name, "checksum": step.checksum,
                "appliedAt": datetime.now(UTC), "appliedBy": ledger.applied_by(),
                "allowModified": allow_modified,
            })
        except DuplicateKeyError:
            pass  # another deployer recorded it; the step is idempotent
        applied.append(step.name)
    return applied

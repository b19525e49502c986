"""`panamia legacy plan`: phase 2 decided in full, written nowhere.

The same batches `run` would make, from the same checkpoints, decided by the same code;
PostgreSQL is read in one READ ONLY transaction that is rolled back, MongoDB is only read,
and what a batch would have written is kept in memory (`store.PlanStore`) so later
batches see it. The counts it returns are the ones `run` would end with.
"""

from sqlalchemy import text

from panamia.legacy import auth, progress
from panamia.legacy.progress import Checkpoint, Move
from panamia.legacy.store import PlanStore


async def plan_auth(move: Move) -> list[Checkpoint]:
    async with move.db() as session:
        await session.begin()
        try:
            await session.execute(text("SET TRANSACTION READ ONLY"))
            await auth.check_checkpoints(session, move)
            store = PlanStore(session)
            planned = []
            for step in auth.STEPS:
                cp = await progress.load(session, step.name)
                total = await auth.source(move, step).estimated_document_count()
                move.ticker.start(step.name, total, cp.read)
                handle = await auth.handler(move, step)
                async with auth.documents(move, step) as stream:
                    while n := await auth.next_batch(store, move, step, cp, handle, stream):
                        cp.count("read", n)
                        move.ticker.advance(step.name, n)
                planned.append(cp)
            return planned
        finally:
            await session.rollback()

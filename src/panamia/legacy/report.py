"""What the legacy move tells its operator: summary tables and the reject report file."""

import json
import os
from pathlib import Path

from rich.table import Table
from sqlalchemy import select, tuple_

from panamia.db.postgres import Sessionmaker
from panamia.legacy.models import LegacyReject
from panamia.legacy.progress import Checkpoint

OUTCOMES = ("imported", "merged", "rejected")


def adds_up(cp: Checkpoint) -> bool | None:
    """read = imported + merged + rejected; None for a step that does not count outcomes."""
    if not any(k in cp.counts for k in OUTCOMES):
        return None if cp.read else True
    return cp.read == sum(cp.counts.get(k, 0) for k in OUTCOMES)


def summary_table(checkpoints: list[Checkpoint], title: str) -> Table:
    """One row per step; its integer counts as columns (any step's, so phase 3's fit too)."""
    columns = ["read", *OUTCOMES]
    for cp in checkpoints:
        columns += [k for k, v in cp.counts.items()
                    if isinstance(v, int) and not isinstance(v, bool) and k not in columns]
    table = Table(*["step", *columns, "adds up", "finished"], title=title)
    for cp in checkpoints:
        counts_outcomes = any(k in cp.counts for k in OUTCOMES)
        cells = [str(cp.counts[c]) if c in cp.counts
                 else "0" if c == "read" or (counts_outcomes and c in OUTCOMES) else "-"
                 for c in columns]
        check = {True: "[green]yes[/green]", False: "[red]NO[/red]", None: "-"}[adds_up(cp)]
        table.add_row(cp.step, *cells, check, "yes" if cp.finished_at else "no")
    return table


def detail_table(checkpoints: list[Checkpoint], group: str, title: str) -> Table | None:
    """The `reasons` or `notes` counters of every step, or None when there are none."""
    rows = [(cp.step, key, n) for cp in checkpoints
            for key, n in sorted(cp.counts.get(group, {}).items())]
    if not rows:
        return None
    table = Table("step", group[:-1], "count", title=title)
    for step, key, n in rows:
        table.add_row(step, key, str(n))
    return table


async def write_rejects(db: Sessionmaker, path: Path, batch: int = 1000) -> int:
    """Every row of legacy_rejects as JSON lines, in (collection, legacy id) order.

    Written from the table, after the batches, so the file always matches it whatever
    crashes came before; the file appears whole (written aside, then renamed).
    """
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a killed run
        stale.unlink(missing_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    written, after = 0, ("", "")
    try:
        with scratch.open("w", encoding="utf-8") as out:
            while True:
                async with db() as session:
                    rows = (await session.execute(
                        select(LegacyReject)
                        .where(tuple_(LegacyReject.collection, LegacyReject.legacy_id)
                               > tuple_(*after))
                        .order_by(LegacyReject.collection, LegacyReject.legacy_id).limit(batch)
                    )).scalars().all()
                for row in rows:
                    out.write(json.dumps({
                        "collection": row.collection, "legacyId": row.legacy_id,
                        "reason": row.reason, "document": row.document,
                    }, ensure_ascii=False) + "\n")
                written += len(rows)
                if len(rows) < batch:
                    break
                after = (rows[-1].collection, rows[-1].legacy_id)
        os.replace(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)
    return written

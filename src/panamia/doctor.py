"""`panamia doctor` and `GET /api/admin/consistency`: do the two databases still agree, and
does the money ledger hold together (`ledger/check.py`)?

For every reference in the map (panamia.references), the distinct ids MongoDB holds are
streamed out and checked against PostgreSQL a chunk at a time, never one query per
document. A document of a "deleted with the user" reference that names no user is a
problem, unless that user's `user.deleted` event is still waiting in the outbox. Kept
references naming deleted users are expected (an article by a deleted user) and only
counted. Outbox events undelivered for longer than the threshold are a problem too.
"""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from fastapi import APIRouter, Query
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from panamia import references
from panamia.cli_support import age, run_with_resources
from panamia.db.mongo import MongoDatabase
from panamia.errors import Forbidden, Unavailable, responses
from panamia.identity.dependencies import AdminUser
from panamia.ledger import check as ledger_check
from panamia.ledger.check import LedgerReport
from panamia.outbox import service as outbox_service
from panamia.outbox.service import OldestEvent
from panamia.references import REFERENCES, OnUserDelete, Reference
from panamia.resources import Resources, ResourcesDep
from panamia.schemas import Schema
from panamia.sidecar import registry

CHUNK = 1000
SAMPLE = 5
DEFAULT_STALE_AFTER = timedelta(minutes=15)
console = Console()


class ReferenceFinding(Schema):
    reference: str
    target: str
    on_user_delete: OnUserDelete
    missing_ids: int
    awaiting_relay: int
    documents: int
    sample_ids: list[str]
    problem: bool


class StaleEvents(Schema):
    stale_after_minutes: float
    count: int
    oldest: OldestEvent | None


class ConsistencyReport(Schema):
    ok: bool
    references: list[ReferenceFinding]
    stale_events: StaleEvents
    ledger: LedgerReport


async def _distinct_ids(mongo: MongoDatabase, ref: Reference) -> AsyncIterator[list[Any]]:
    """The distinct values as stored (a legacy ObjectId stays one, so counting finds it)."""
    pipeline: list[dict] = [{"$match": {ref.field: {"$ne": None}}}]
    if ref.array:
        pipeline.append({"$unwind": f"${ref.field}"})
    pipeline.append({"$group": {"_id": f"${ref.field}"}})
    chunk: list[Any] = []
    async for row in await mongo[ref.collection].aggregate(pipeline, batchSize=CHUNK):
        if row["_id"] is None:
            continue
        chunk.append(row["_id"])
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def _existing(session: AsyncSession, ref: Reference, ids: list[str]) -> set[str]:
    target = table(ref.table, column(ref.column))
    key = target.c[ref.column]
    return set((await session.execute(select(key).where(key.in_(ids)))).scalars())


async def _count_naming(mongo: MongoDatabase, ref: Reference, ids: list[Any]) -> int:
    total = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        total += await mongo[ref.collection].count_documents({ref.field: {"$in": chunk}})
    return total


async def check_reference(
    mongo: MongoDatabase, session: AsyncSession, ref: Reference
) -> ReferenceFinding:
    missing: list[Any] = []
    awaiting: set[str] = set()
    async for values in _distinct_ids(mongo, ref):
        found = await _existing(session, ref, [str(v) for v in values])
        gone = [v for v in values if str(v) not in found]
        if gone and ref.on_user_delete is OnUserDelete.DELETE:
            awaiting |= await outbox_service.pending_user_deletions(
                session, [str(v) for v in gone])
        missing.extend(gone)
    unexplained = [v for v in missing if str(v) not in awaiting]
    documents = await _count_naming(mongo, ref, unexplained)
    return ReferenceFinding(
        reference=ref.name, target=ref.target, on_user_delete=ref.on_user_delete,
        missing_ids=len(missing), awaiting_relay=len(awaiting), documents=documents,
        sample_ids=sorted(str(v) for v in unexplained)[:SAMPLE],
        problem=ref.on_user_delete is OnUserDelete.DELETE and documents > 0,
    )


async def check(
    resources: Resources, *, stale_after: timedelta = DEFAULT_STALE_AFTER,
    now: datetime | None = None,
) -> ConsistencyReport:
    cutoff = (now or datetime.now(UTC)) - stale_after
    async with resources.reads() as session:
        findings = [await check_reference(resources.mongo, session, ref) for ref in REFERENCES]
        stale_count = await outbox_service.count_undelivered(session, created_before=cutoff)
        oldest = await outbox_service.oldest_undelivered(session, created_before=cutoff)
    stale = StaleEvents(
        stale_after_minutes=stale_after.total_seconds() / 60, count=stale_count,
        oldest=oldest,
    )
    ledger = await ledger_check.check(resources, registry.held_funds())
    return ConsistencyReport(
        ok=not stale_count and not any(f.problem for f in findings) and ledger.ok,
        references=findings, stale_events=stale, ledger=ledger,
    )


router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/consistency", response_model=ConsistencyReport,
            responses=responses((Forbidden, "Administrators only"), Unavailable))
async def consistency(
    _: AdminUser, resources: ResourcesDep,
    stale_after: Annotated[float, Query(alias="staleAfter", ge=0, le=60 * 24 * 365)] = (
        DEFAULT_STALE_AFTER.total_seconds() / 60),
) -> ConsistencyReport:
    """What `panamia doctor` reports: references naming no user, and outbox events
    undelivered for longer than `staleAfter` minutes, and the ledger's differences (`ledger`).
    `ok` is false when any is found."""
    return await check(resources, stale_after=timedelta(minutes=stale_after))


def _print_report(report: ConsistencyReport) -> None:
    table = Table("reference", "when user deleted", "ids naming no user", "documents",
                  "awaiting relay", "state")
    for f in report.references:
        state = "[red]orphans[/red]" if f.problem else (
            "kept" if f.documents else "[green]ok[/green]")
        table.add_row(f"{f.reference} -> {f.target}", f.on_user_delete.value,
                      str(f.missing_ids), str(f.documents), str(f.awaiting_relay), state)
    console.print(table)
    for f in report.references:
        if f.problem:
            console.print(f"{f.reference}: e.g. {', '.join(f.sample_ids)}", soft_wrap=True)
    stale = report.stale_events
    line = (f"outbox events undelivered for over {stale.stale_after_minutes:g} minutes: "
            f"{stale.count}")
    if stale.oldest:
        line += (f"; oldest {stale.oldest.id} ({stale.oldest.topic}), "
                 f"waiting {age(stale.oldest.created_at)}"
                 + (f", last error: {escape(stale.oldest.last_error)}"
                    if stale.oldest.last_error else ""))
    console.print(line, soft_wrap=True)
    ledger_check.print_report(report.ledger, console)
    console.print("[green]consistent[/green]" if report.ok else "[red]inconsistent[/red]")


def command(
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON")] = False,
    stale_after: Annotated[float, typer.Option(
        min=0, help="Minutes after which an undelivered outbox event is a problem")] = (
        DEFAULT_STALE_AFTER.total_seconds() / 60),
    show_references: Annotated[bool, typer.Option(
        "--references", help="Print the map of cross-database references as Markdown")] = False,
) -> None:
    """Check that MongoDB and PostgreSQL agree; exit 1 when they do not."""
    if show_references:
        typer.echo(references.markdown(), nl=False)
        return
    report = run_with_resources(
        "cli", lambda r: check(r, stale_after=timedelta(minutes=stale_after)))
    if as_json:
        typer.echo(report.model_dump_json(by_alias=True, indent=2))
    else:
        _print_report(report)
    raise typer.Exit(0 if report.ok else 1)

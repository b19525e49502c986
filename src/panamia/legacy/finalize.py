"""`panamia legacy finalize --archive DIR`: archive NextAuth's collections, then drop them.

    await finalize(mongo, db, archive, *, prefix="nextauth_", secret=None) -> Manifest

Only after a passing `verify` (else `Refused`, naming the failing checks). Every collection
named `<prefix>*` is written to `DIR/<collection>.jsonl`, one document per line in `_id`
order as canonical extended JSON (bson.json_util), so every BSON type reads back as
itself; `DIR/manifest.json` gives each file's sha256, its document count and the sha256 of
the documents' BSON as MongoDB returned it. The archive is then read back: each file
re-hashed, each line decoded and re-encoded to BSON, which must give the same bytes, and
the counts compared with the collections. Only then are the collections dropped (the users
collection last). The step `finalize` in legacy_progress records the archive: a run
killed while dropping, rerun with the same DIR, checks the archive again and finishes the
drops without verifying (the collections it verified are partly gone by then).
"""

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import bson
from bson import json_util
from bson.codec_options import CodecOptions, DatetimeConversion
from bson.raw_bson import RawBSONDocument

from panamia.db.mongo import MongoDatabase
from panamia.db.postgres import Sessionmaker
from panamia.legacy import progress, verify
from panamia.legacy.sources import USERS

STEP = "finalize"
MANIFEST = "manifest.json"
# Exact values, not the migration's forgiving reading (sources.CODEC replaces bad UTF-8).
CODEC = CodecOptions(tz_aware=True, tzinfo=UTC,
                     datetime_conversion=DatetimeConversion.DATETIME_AUTO)
JSON = json_util.CANONICAL_JSON_OPTIONS.with_options(
    tz_aware=True, tzinfo=UTC, datetime_conversion=DatetimeConversion.DATETIME_AUTO)


class Refused(Exception):
    """Finalize did not start, or stopped before dropping anything; the message says why."""


@dataclass
class Manifest:
    database: str
    created_at: str
    collections: dict[str, dict]  # name -> {file, documents, sha256, bsonSha256}

    def write(self, directory: Path) -> None:
        _write_whole(directory / MANIFEST, json.dumps(
            {"database": self.database, "createdAt": self.created_at,
             "collections": self.collections}, indent=2).encode() + b"\n")

    @classmethod
    def read(cls, directory: Path) -> "Manifest":
        data = json.loads((directory / MANIFEST).read_text())
        return cls(data["database"], data["createdAt"], data["collections"])


def _write_whole(path: Path, data: bytes) -> None:
    scratch = path.with_name(f".{path.name}.tmp")
    with scratch.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(scratch, path)


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def _archive_one(mongo: MongoDatabase, name: str, directory: Path) -> dict:
    path = directory / f"{name}.jsonl"
    scratch = path.with_name(f".{path.name}.tmp")
    file_hash, bson_hash, count = hashlib.sha256(), hashlib.sha256(), 0
    source = mongo.get_collection(name, codec_options=CODEC.with_options(
        document_class=RawBSONDocument))
    with scratch.open("wb") as out:
        async for raw in source.find().sort("_id", 1).batch_size(1000):
            line = json_util.dumps(bson.decode(raw.raw, CODEC), json_options=JSON).encode() + b"\n"
            out.write(line)
            file_hash.update(line)
            bson_hash.update(raw.raw)
            count += 1
        out.flush()
        os.fsync(out.fileno())
    os.replace(scratch, path)
    return {"file": path.name, "documents": count, "sha256": file_hash.hexdigest(),
            "bsonSha256": bson_hash.hexdigest()}


def check_archive(directory: Path, manifest: Manifest) -> list[str]:
    """Problems found reading the archive back (none: it is whole and exact)."""
    problems = []
    for name, entry in manifest.collections.items():
        path = directory / entry["file"]
        if not path.is_file():
            problems.append(f"{path} is missing")
            continue
        file_hash, bson_hash, count = hashlib.sha256(), hashlib.sha256(), 0
        with path.open("rb") as lines:
            for number, line in enumerate(lines, 1):
                file_hash.update(line)
                try:
                    doc = json_util.loads(line, json_options=JSON)
                except (ValueError, TypeError) as exc:
                    problems.append(f"{path}:{number} does not decode: {exc}")
                    break
                bson_hash.update(bson.encode(doc, codec_options=CODEC))
                count += 1
        for what, got, want in (("sha256", file_hash.hexdigest(), entry["sha256"]),
                                ("documents", count, entry["documents"]),
                                ("BSON read back", bson_hash.hexdigest(), entry["bsonSha256"])):
            if got != want:
                problems.append(f"{path}: {what} is {got}, the manifest says {want}")
    return problems


async def _counts_match(mongo: MongoDatabase, manifest: Manifest) -> list[str]:
    present = set(await mongo.list_collection_names())
    return [f"{name} holds {n} documents, the archive {entry['documents']}"
            for name, entry in manifest.collections.items() if name in present
            and (n := await mongo[name].count_documents({})) != entry["documents"]]


async def _save(db: Sessionmaker, checkpoint: progress.Checkpoint) -> None:
    async with db.begin() as session:
        await progress.load(session, STEP, lock=True)
        await progress.save(session, checkpoint)


async def finalize(mongo: MongoDatabase, db: Sessionmaker, archive: Path, *,
                   prefix: str = "nextauth_", secret: str | None = None,
                   sample: int = 50) -> Manifest:
    archive = archive.resolve()
    async with db() as session:
        checkpoint = await progress.load(session, STEP)
    if checkpoint.cursor and Path(checkpoint.cursor) != archive:
        raise Refused(f"finalize already archived to {checkpoint.cursor}; rerun with "
                      f"--archive {checkpoint.cursor}")
    if checkpoint.cursor:
        manifest = Manifest.read(archive)
    else:
        if (archive / MANIFEST).exists():
            raise Refused(f"{archive} already holds an archive; give an empty directory")
        report = await verify.verify(mongo, db, prefix=prefix, secret=secret, sample=sample)
        if not report.ok:
            failed = ", ".join(c.name for c in report.checks if not c.ok)
            raise Refused(f"verify does not pass ({failed}); run `panamia legacy verify`")
        names = sorted(n for n in await mongo.list_collection_names() if n.startswith(prefix))
        if not names:
            raise Refused(f"no collection named {prefix}* in MongoDB database {mongo.name}")
        archive.mkdir(parents=True, exist_ok=True)
        manifest = Manifest(mongo.name, datetime.now(UTC).isoformat(), {
            name: await _archive_one(mongo, name, archive) for name in names})
        manifest.write(archive)
        _sync_dir(archive)
    if problems := check_archive(archive, manifest) + await _counts_match(mongo, manifest):
        raise Refused("the archive does not read back as written, nothing dropped: "
                      + "; ".join(problems))
    checkpoint.cursor = str(archive)
    checkpoint.counts = {"archived": sum(e["documents"] for e in manifest.collections.values()),
                         "collections": len(manifest.collections)}
    await _save(db, checkpoint)
    users = f"{prefix}{USERS}"
    for name in sorted(manifest.collections, key=lambda n: n == users):
        await mongo.drop_collection(name)
    checkpoint.finished_at = datetime.now(UTC)
    await _save(db, checkpoint)
    return manifest

"""Where photo files are kept: a tiny interface, and its two kinds.

A file is written once under a name that is never reused, read by that name, and deleted.
`GridFSStore` keeps files in MongoDB (the default: every service already reaches it);
`DirectoryStore` keeps them under a directory every service must share. Another kind (an
S3-compatible bucket) needs only these four methods.
"""

import asyncio
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile

from panamia.db.mongo import MongoDatabase
from panamia.resources import Resources

BUCKET = "photoFiles"


class Store(Protocol):
    async def put(self, name: str, data: bytes) -> None: ...

    async def get(self, name: str) -> bytes | None:
        """The file's bytes, or None when there is no such file."""

    async def delete(self, names: Iterable[str]) -> None:
        """Delete these files; one already gone is no error."""

    async def stored_before(self, moment: datetime) -> list[str]:
        """The names of the files written before `moment`."""


class GridFSStore:
    """Files in MongoDB's GridFS bucket `photoFiles` (`photoFiles.files`, `.chunks`), each
    with its name as its id."""

    def __init__(self, mongo: MongoDatabase):
        self.bucket = AsyncGridFSBucket(mongo, bucket_name=BUCKET)

    async def put(self, name: str, data: bytes) -> None:
        await self.bucket.upload_from_stream_with_id(name, name, data)

    async def get(self, name: str) -> bytes | None:
        try:
            stream = await self.bucket.open_download_stream(name)
        except NoFile:
            return None
        return await stream.read()

    async def delete(self, names: Iterable[str]) -> None:
        for name in names:
            try:
                await self.bucket.delete(name)
            except NoFile:
                pass

    async def stored_before(self, moment: datetime) -> list[str]:
        return [found._id async for found in self.bucket.find({"uploadDate": {"$lt": moment}})]


class DirectoryStore:
    """Files in one directory. A file is written beside its place and renamed into it, so a
    reader never sees half of one."""

    def __init__(self, directory: Path):
        self.directory = directory

    def _put(self, name: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.directory / f".{name}.{os.getpid()}.partial"
        partial.write_bytes(data)
        partial.replace(self.directory / name)

    async def put(self, name: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, name, data)

    async def get(self, name: str) -> bytes | None:
        try:
            return await asyncio.to_thread((self.directory / name).read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, names: Iterable[str]) -> None:
        for name in names:
            (self.directory / name).unlink(missing_ok=True)

    def _stored_before(self, moment: datetime) -> list[str]:
        if not self.directory.is_dir():
            return []
        return [entry.name for entry in os.scandir(self.directory)
                if not entry.name.startswith(".")
                and datetime.fromtimestamp(entry.stat().st_mtime, UTC) < moment]

    async def stored_before(self, moment: datetime) -> list[str]:
        return await asyncio.to_thread(self._stored_before, moment)


def store_of(resources: Resources) -> Store:
    """The store PHOTOS_STORE names, over this service's resources."""
    settings = resources.settings
    if settings.photos_store == "directory":
        return DirectoryStore(settings.photos_dir or settings.panamia_data_dir / "photos")
    return GridFSStore(resources.mongo)

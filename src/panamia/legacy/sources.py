"""Reading NextAuth's MongoDB collections as they really are: in `_id` order, a batch at a
time (`Stream`), with ids of any type and fields that may be missing or malformed.

Legacy ids are known everywhere (legacy_id_map, legacy_rejects, references) by
`legacy_key`: an ObjectId's 24 hex digits, a string as stored (trimmed, lower-cased when it
is an ObjectId written as text), anything else `type:json`. So `userId: "65a1…"` (a
string) finds the user whose `_id` is `ObjectId("65a1…")`.
"""

import json
import re
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId, json_util
from bson.codec_options import CodecOptions, DatetimeConversion
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

USERS, ACCOUNTS, SESSIONS, VERIFICATION_TOKENS = (
    "users", "accounts", "sessions", "verification_tokens")

# Undecodable UTF-8 becomes U+FFFD and out-of-range dates stay readable (as DatetimeMS),
# rather than one bad document failing every read of its batch.
CODEC = CodecOptions(
    tz_aware=True, tzinfo=UTC, unicode_decode_error_handler="replace",
    datetime_conversion=DatetimeConversion.DATETIME_AUTO,
)

# Read in this order, one type at a time: MongoDB compares values of one type only
# (`$gt: ObjectId(…)` never matches a string), so the cursor keeps a place per type.
BUCKETS = ("objectId", "string", "other")
_FILTERS = {
    "objectId": {"_id": {"$type": "objectId"}},
    "string": {"_id": {"$type": "string"}},
    "other": {"_id": {"$not": {"$type": ["objectId", "string"]}}},
}
HEX24 = re.compile(r"[0-9a-fA-F]{24}")  # an ObjectId written as text, with fullmatch
SECRET_FIELDS = frozenset({
    "sessionToken", "token", "access_token", "refresh_token", "id_token",
    "oauth_token", "oauth_token_secret",
})
REDACTED = "[redacted]"


def collection(mongo: AsyncDatabase, prefix: str, name: str) -> AsyncCollection:
    return mongo.get_collection(f"{prefix}{name}", codec_options=CODEC)


def _no_nul(text: str) -> str:
    return text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL


def legacy_key(value: Any) -> str:
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, str):
        value = _no_nul(value.strip())
        return value.lower() if HEX24.fullmatch(value) else value
    return f"{type(value).__name__}:{_no_nul(json_util.dumps(value, sort_keys=True))}"


def raw_id(value: Any) -> str:
    """The exact `_id` as extended JSON: names a document whose `legacy_key` is taken."""
    return _no_nul(json_util.dumps(value))


def _position(bucket: str, doc: dict, read: int) -> str | int:
    if bucket == "objectId":
        return str(doc["_id"])
    return doc["_id"] if bucket == "string" else read


async def _documents(
    source: AsyncCollection, cursor: str | None, batch_size: int
) -> AsyncIterator[tuple[dict, str]]:
    """Every document after `cursor`, each with the cursor that follows it: one query per
    `_id` type, read as it streams."""
    positions = json.loads(cursor) if cursor else {}
    for bucket in BUCKETS:
        query, after, skip = _FILTERS[bucket], positions.get(bucket), 0
        if bucket == "other":
            skip = after or 0
        elif after is not None:
            after = ObjectId(after) if bucket == "objectId" else after
            query = {"_id": {**query["_id"], "$gt": after}}
        read = skip
        async with source.find(query, sort=[("_id", 1)], skip=skip,
                               batch_size=batch_size) as found:
            async for doc in found:
                read += 1
                positions = {**positions, bucket: _position(bucket, doc, read)}
                yield doc, json.dumps(positions)


class Stream:
    """A collection's documents in `_id` order, a batch at a time after a step's cursor,
    read through one query per `_id` type for the whole step. SecantusDB answers every
    query by scanning the collection, so a query per batch made a step quadratic.

    The cursor is JSON holding the last `_id` read of each type, e.g.
    `{"objectId": "65a1…", "string": "legacy-bo", "other": 2}`; ids of other types (rare)
    are paged by how many were read, in `_id` order. Since every type keeps its place,
    a rerun after the move finished still picks up documents added since.

    `batch(cursor, limit)` is asked with the checkpoint's cursor, read again under its
    lock each time, and keeps the documents it gave until that cursor moves past them:
    the same cursor again (the batch rolled back and is retried) gives the same documents;
    the cursor of a document it gave (the batch committed) the ones after it, from the
    same queries; any other cursor (another run moved the checkpoint) opens the queries
    again after it. Use it as `async with Stream(…) as documents:`, which closes the
    queries.
    """

    def __init__(self, source: AsyncCollection, batch_size: int):
        self.source, self.batch_size = source, batch_size
        self._after: str | None = None  # the cursor `_given` follows
        self._given: list[tuple[dict, str]] = []  # read, and not yet behind the checkpoint
        self._reader: AsyncGenerator[tuple[dict, str]] | None = None

    async def batch(self, cursor: str | None, limit: int) -> list[tuple[dict, str]]:
        """Up to `limit` documents after `cursor`, each with the cursor that follows it."""
        if self._reader is None or cursor != self._after:
            passed = next((i + 1 for i, (_, after) in enumerate(self._given)
                           if after == cursor), None)
            if self._reader is None or passed is None:
                await self._open(cursor)
            else:
                del self._given[:passed]
                self._after = cursor
        while len(self._given) < limit and (row := await anext(self._reader, None)):
            self._given.append(row)
        return self._given[:limit]

    async def _open(self, cursor: str | None) -> None:
        await self.aclose()
        self._reader = _documents(self.source, cursor, self.batch_size)
        self._after, self._given = cursor, []

    async def aclose(self) -> None:
        if self._reader is not None:
            await self._reader.aclose()

    async def __aenter__(self) -> "Stream":
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()


def text(value: Any) -> str | None:
    """A usable string, else None."""
    if not isinstance(value, str):
        return None
    value = _no_nul(value).strip()
    return value or None


def moment(value: Any) -> datetime | None:
    """A date as the adapter wrote it (BSON date), or as ISO text or epoch milliseconds."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None  # DatetimeMS (out of range), booleans, anything else


def _scrub(value: Any, key: str | None = None) -> Any:
    if key in SECRET_FIELDS and value is not None:
        return REDACTED
    if isinstance(value, str):
        return _no_nul(value)
    if isinstance(value, dict):
        return {_no_nul(str(k)): _scrub(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def reject_document(doc: dict) -> dict:
    """The document as extended JSON for the reject report, its tokens redacted: a reject
    report must not become a second copy of everyone's credentials."""
    return json.loads(json_util.dumps(_scrub(doc), json_options=json_util.RELAXED_JSON_OPTIONS))

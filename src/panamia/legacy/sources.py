"""Reading NextAuth's MongoDB collections as they really are: in `_id` order, a batch at a
time, with ids of any type and fields that may be missing or malformed.

Legacy ids are known everywhere (legacy_id_map, legacy_rejects, references) by
`legacy_key`: an ObjectId's 24 hex digits, a string as stored (trimmed, lower-cased when it
is an ObjectId written as text), anything else `type:json`. So `userId: "65a1…"` (a
string) finds the user whose `_id` is `ObjectId("65a1…")`.
"""

import json
import re
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


async def read_batch(
    source: AsyncCollection, cursor: str | None, limit: int
) -> list[tuple[dict, str]]:
    """Up to `limit` documents after `cursor`, each with the cursor that follows it.

    The cursor is JSON holding the last `_id` read of each type, e.g.
    `{"objectId": "65a1…", "string": "legacy-bo", "other": 2}`; ids of other types (rare)
    are paged by how many were read, in `_id` order. Since every type keeps its place,
    a rerun after the move finished still picks up documents added since.
    """
    positions = json.loads(cursor) if cursor else {}
    found: list[tuple[dict, str]] = []
    for bucket in BUCKETS:
        query, after, skip = _FILTERS[bucket], positions.get(bucket), 0
        if bucket == "other":
            skip = after or 0
        elif after is not None:
            after = ObjectId(after) if bucket == "objectId" else after
            query = {"_id": {**query["_id"], "$gt": after}}
        docs = await source.find(query, sort=[("_id", 1)], skip=skip,
                                 limit=limit - len(found)).to_list()
        for i, doc in enumerate(docs):
            positions = {**positions, bucket: _position(bucket, doc, skip + i + 1)}
            found.append((doc, json.dumps(positions)))
        if len(found) >= limit:
            break
    return found


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

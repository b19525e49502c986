"""One batch of a phase 2 step: the decisions it makes, and the rows and counts they add.

Every step decides its documents through a `Batch`: `imported`, `merged` or `reject` (each
counted in the checkpoint), `note` for what was kept but changed, `claim` for the legacy
key a document stands for, `user_of` for the new id of its user.
"""

from typing import Any

from panamia.db.postgres import new_id
from panamia.legacy.progress import Checkpoint, Move
from panamia.legacy.sources import USERS, legacy_key, raw_id, reject_document
from panamia.legacy.store import Known, Writes

MAX_IGNORED_NAMES = 20


class Batch:
    """One batch's decisions: rows to write, and counts added to the checkpoint."""

    def __init__(self, move: Move, cp: Checkpoint, known: Known, name: str, kind: str | None):
        self.cp, self.known, self.kind = cp, known, kind
        self.keep_roles = move.keep_roles
        self.collection = f"{move.prefix}{name}"
        self.users_collection = f"{move.prefix}{USERS}"
        self.writes = Writes()

    def _map(self, key: str, new: str, outcome: str) -> None:
        self.writes.mapped.append(
            {"kind": self.kind, "legacy_id": key, "new_id": new, "outcome": outcome})
        self.known.mapped[(self.kind, key)] = new
        self.cp.count(outcome)

    def imported(self, key: str, new: str) -> None:
        self._map(key, new, "imported")

    def merged(self, key: str, into: str) -> None:
        self._map(key, into, "merged")

    def reject(self, doc: dict, legacy_id: str, code: str, detail: str) -> None:
        reason = f"{code}: {detail}".replace("\x00", "\ufffd")  # details may quote the input
        self.writes.rejects.append({
            "id": new_id(), "collection": self.collection, "legacy_id": legacy_id,
            "reason": reason, "document": reject_document(doc)})
        self.known.rejected[(self.collection, legacy_id)] = reason
        self.cp.count("rejected")
        self.cp.count_in("reasons", code)

    def note(self, what: str) -> None:
        self.cp.count_in("notes", what)

    def claim(self, doc: dict, known_fields: set[str]) -> str | None:
        """The document's legacy key, or None after rejecting it because another document
        already holds that key (`"65a1…"` beside `ObjectId("65a1…")`)."""
        ignored = self.cp.counts.get("notes", {})
        for name in sorted(doc.keys() - known_fields):
            note = f"ignored field {name}"
            if note not in ignored and sum(n.startswith("ignored field ") for n in ignored) \
                    >= MAX_IGNORED_NAMES:
                note = "ignored field (more names)"
            self.note(note)
        key = legacy_key(doc["_id"])
        if (self.kind, key) in self.known.mapped or (self.collection, key) in self.known.rejected:
            self.reject(doc, raw_id(doc["_id"]), "duplicate _id",
                        f"another document's _id is also {key}")
            return None
        return key

    def user_of(self, doc: dict, user_key: str) -> str | None:
        """The new id of the document's user, or None after rejecting the document."""
        if user_id := self.known.mapped.get(("user", user_key)):
            return user_id
        why = self.known.rejected.get((self.users_collection, user_key))
        if why:
            self.reject(doc, legacy_key(doc["_id"]), "user rejected",
                        f"user {user_key} was rejected ({why})")
        else:
            self.reject(doc, legacy_key(doc["_id"]), "user missing", f"no user {user_key}")
        return None


def problems(doc: dict, fields: dict[str, Any]) -> tuple[str, str] | None:
    """(code, detail) naming the required fields that are absent or unusable, else None."""
    missing = [n for n in fields if doc.get(n) in (None, "")]
    malformed = [n for n, v in fields.items() if v is None and n not in missing]
    if not missing and not malformed:
        return None
    return ("missing field" if missing else "malformed field",
            ", ".join([f"{n} missing" for n in missing] + [f"{n} malformed" for n in malformed]))


def optional(batch: Batch, doc: dict, name: str, value: Any) -> Any:
    """`value` parsed from `doc[name]`; a present field that did not parse is noted."""
    if value is None and doc.get(name) not in (None, ""):
        batch.note(f"{name} malformed (left empty)")
    return value

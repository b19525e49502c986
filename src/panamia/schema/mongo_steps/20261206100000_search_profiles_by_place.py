"""Profiles are found by their place: the folded search words include the neighborhood and city.

Migration: 20261206100000_search_profiles_by_place
Purpose: The directory matches each searched word against `searchWords`, which held only the
  name, bio and categories; "Miami" found nobody though every card said Miami. New writes
  fold in the place; this recomputes the field for the profiles already stored.
Ticket: N/A
Reversible: Yes
Rollback:
  Nothing to undo: the words of the old field are all still there.
"""

from pymongo import UpdateOne

from panamia.profiles.documents import COLLECTION, search_fields

BATCH = 500


async def apply(db):
    """Recompute `searchWords` and `sortName` for every profile, in batches, by `_id`, so
    a rerun after a crash converges on the same documents."""
    last = None
    while True:
        batch = await (db[COLLECTION].find({} if last is None else {"_id": {"$gt": last}})
                       .sort("_id", 1).limit(BATCH)).to_list(BATCH)
        if not batch:
            return
        await db[COLLECTION].bulk_write(
            [UpdateOne({"_id": doc["_id"]}, {"$set": search_fields(doc)}) for doc in batch],
            ordered=False)
        last = batch[-1]["_id"]

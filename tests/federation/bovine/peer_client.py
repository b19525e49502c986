"""Drives an actor of the bovine peer through its own client (C2S, Moo-Auth-1): run with the
peer's Python, `python peer_client.py <domain> <secret> <command> [argument]`; prints JSON.

Commands:
  actor                 the actor document
  lookup NAME@HOST      the actor id WebFinger gives for acct:NAME@HOST (over http: loopback)
  follow ACTOR_ID       a Follow of ACTOR_ID, through the actor's outbox
  unfollow ACTOR_ID FOLLOW_ID
                        an Undo of that Follow (FOLLOW_ID: what `follow` answered)
  like OBJECT_ID        a Like of OBJECT_ID, addressed to its author
  announce OBJECT_ID    an Announce (boost) of OBJECT_ID, public
  reply OBJECT_ID TEXT  a Note in reply to OBJECT_ID, public
  inbox                 every activity in the actor's inbox, newest first
  following             the ids the actor follows

Nothing here knows panamia: objects are fetched (signed, by the peer's proxy) and addressed
the way bovine addresses them.
"""

import asyncio
import json
import sys

from bovine import BovineClient
from bovine.clients import lookup_uri_with_webfinger

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


async def items(client: BovineClient, collection: str) -> list:
    found = []
    async for item in client.collection_helper(collection, resolve=True):
        found.append(item)
    return found


async def run(client: BovineClient, command: str, args: list[str]):
    activities, objects = client.factories
    if command == "actor":
        return client.information
    if command == "lookup":
        host = args[0].rsplit("@", 1)[1]
        actor_id, _ = await lookup_uri_with_webfinger(client.session, f"acct:{args[0]}",
                                                      domain=f"http://{host}")
        return actor_id
    if command == "inbox":
        return await items(client, client.information["inbox"])
    if command == "following":
        return [item if isinstance(item, str) else item.get("id")
                for item in await items(client, client.information["following"])]
    if command == "follow":
        activity = activities.follow(args[0]).build()
    elif command == "unfollow":
        follow = {"id": args[1], "type": "Follow", "actor": client.information["id"],
                  "object": args[0], "to": [args[0]]}
        activity = activities.undo(follow).build()
    else:
        target = await client.proxy(args[0])
        author = target.get("attributedTo")
        author = author[0] if isinstance(author, list) else author
        author = author if isinstance(author, str) else author["id"]
        if command == "like":
            activity = activities.like(target["id"], to={author}).build()
        elif command == "announce":
            activity = activities.announce(target["id"]).as_public().build()
            activity["cc"] = sorted({*activity.get("cc", []), author})
        elif command == "reply":
            note = objects.reply({**target, "attributedTo": author},
                                 content=args[1]).as_public().build()
            activity = activities.create(note).build()
        else:
            raise SystemExit(f"unknown command {command!r}: see the module's docstring")
    response = await client.send_to_outbox(activity)
    return {"status": response.status, "id": response.headers.get("location")}


async def main(domain: str, secret: str, command: str, *args: str) -> None:
    async with BovineClient(domain=domain, secret=secret) as client:
        print(json.dumps(await run(client, command, list(args))))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))

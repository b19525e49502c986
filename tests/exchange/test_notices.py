"""What the other party is told, queued in the outbox in the same transaction as the event:
the seller of a new bid, the outbid bidder, the buyer of an answer and of a transaction's
step; with a link to the item or the transaction."""

from sqlalchemy import select

from panamia.outbox.models import OutboxEvent
from tests.exchange.factories import auction, listed, sale


async def told(resources, user_id: str) -> list[dict]:
    async with resources.reads() as session:
        payloads = (await session.execute(select(OutboxEvent.payload).order_by(
            OutboxEvent.created_at, OutboxEvent.id))).scalars()
        return [p for p in payloads if p.get("targetId") == user_id]


async def test_a_bid_tells_the_seller_and_the_outbid_bidder(members, resources):
    async with members() as seller, members() as ana, members() as ben:
        item = await listed(seller, auction(title="Old guitar"))
        await ana.post(f"/listings/{item['id']}/bids", {"amount": "50.00"})
        await ben.post(f"/listings/{item['id']}/bids", {"amount": "60.00"})
        [outbid] = await told(resources, ana.id)
        assert (outbid["type"], outbid["actorId"]) == ("Update", ben.id)
        assert outbid["object"]["summary"].startswith("Outbid on Old guitar")
        assert outbid["object"]["url"] == f"http://localhost:8002/listings/{item['id']}"
        summaries = {n["object"]["summary"] for n in await told(resources, seller.id)}
        assert summaries == {"New bid of $50.00 on Old guitar", "New bid of $60.00 on Old guitar"}


async def test_answers_and_steps_reach_the_other_party(members, resources):
    async with members() as seller, members() as ana:
        item = await listed(seller, sale(openToOffers=True, title="Oak desk"))
        offer = (await ana.post(f"/listings/{item['id']}/offers", {"amount": "80"})).json()
        [made] = await told(resources, seller.id)
        assert (made["type"], made["object"]["type"]) == ("Offer", "Item")
        await seller.post(f"/offers/{offer['id']}/accept")
        kinds = {(n["type"], n["object"]["type"]) for n in await told(resources, ana.id)}
        assert kinds == {("Create", "Transaction"), ("Accept", "Item")}
        [deal] = (await ana.get("/transactions")).json()
        await ana.post(f"/transactions/{deal['id']}/pay")
        [paid] = [n for n in await told(resources, seller.id)
                  if n["object"]["type"] == "Transaction"]
        assert paid["object"]["summary"] == "Paid: Oak desk"
        assert paid["object"]["url"].endswith(f"/transactions/{deal['id']}")

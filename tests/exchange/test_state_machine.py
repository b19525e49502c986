"""Random sequences of listings, purchases, offers, bids, payments, hand-overs, disputes,
cancellations and expiries, through the exchange's HTTP API, against a model of what each
answer and each balance must be. After every step the ledger is checked (`panamia ledger
check`'s own function), every member's money and every escrow compared with the model, and
nothing is ever negative.

Timers are moved in the database, then the sweep runs once. Each example has members of its
own, on a migrated database of the test's own whose transactions commit; the model counts
the fees from the example's start."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, invariant, multiple, rule

from panamia.exchange import sweep
from panamia.exchange.sidecar import SIDECAR
from tests.exchange.factories import auction, held, listed, member, sale, set_column
from tests.fixtures.machines import LedgerMachine, run_machine

PRICES = ("10.00", "35.50", "120.00")
START = Decimal("150.00")  # each buyer's money: some prices and bids are out of reach
HELD = ("paid", "handed_over", "disputed")
PAST = timedelta(seconds=1)


@dataclass
class Listing:
    kind: str
    price: Decimal | None
    offers: bool = False
    status: str = "open"
    leader: tuple[int, Decimal, str] | None = None  # bidder, amount, bid id


@dataclass
class Deal:
    buyer: int
    price: Decimal
    fee: Decimal
    status: str


@dataclass
class Offer:
    listing: str
    buyer: int
    amount: Decimal
    status: str = "pending"


class ExchangeMachine(LedgerMachine):
    listings = Bundle("listings")
    deals = Bundle("deals")
    offers = Bundle("offers")

    def __init__(self):
        super().__init__()
        self.listed: dict[str, Listing] = {}
        self.made: dict[str, Deal] = {}
        self.offered: dict[str, Offer] = {}
        self.seller, self.admin, *self.buyers = self.run(self.people())
        self.money = {self.seller.id: Decimal(0), **{b.id: START for b in self.buyers}}

    async def people(self):
        world = self.world
        seller = await self.stack.enter_async_context(
            member(world.app, world.resources, money="0"))
        buyers = [await self.stack.enter_async_context(
            member(world.app, world.resources, money=str(START))) for _ in range(2)]
        return seller, await self.client(world.admin_id), *buyers

    # --- listings, purchases and offers ---

    @rule(target=listings, price=st.sampled_from(PRICES), open_to_offers=st.booleans())
    def list_a_sale(self, price, open_to_offers):
        item = self.run(listed(self.seller, sale(price=price, openToOffers=open_to_offers)))
        self.listed[item["id"]] = Listing("sale", Decimal(price), open_to_offers)
        return item["id"]

    @rule(target=listings, start=st.sampled_from(("20.00", "60.00")))
    def list_an_auction(self, start):
        item = self.run(listed(self.seller, auction(startPrice=start, minIncrement="5.00")))
        self.listed[item["id"]] = Listing("auction", Decimal(start))
        return item["id"]

    @rule(target=deals, listing_id=listings, who=st.integers(0, 1))
    def buy(self, listing_id, who):
        listing, buyer = self.listed[listing_id], self.buyers[who]
        answer = self.run(buyer.post(f"/listings/{listing_id}/buy"))
        if listing.kind != "sale" or listing.status != "open":
            assert answer.status_code == 409, answer.text
            return multiple()
        assert answer.status_code == 201, answer.text
        listing.status = "taken"
        self.decline_pending(listing_id)
        deal = answer.json()
        assert deal["status"] == "awaiting_payment"
        self.made[deal["id"]] = Deal(who, listing.price, Decimal(deal["fee"]), deal["status"])
        return deal["id"]

    @rule(target=offers, listing_id=listings, who=st.integers(0, 1),
          amount=st.sampled_from(("5.00", "30.00")))
    def make_an_offer(self, listing_id, who, amount):
        listing, buyer = self.listed[listing_id], self.buyers[who]
        answer = self.run(buyer.post(f"/listings/{listing_id}/offers", {"amount": amount}))
        pending = any(o.listing == listing_id and o.buyer == who and o.status == "pending"
                      for o in self.offered.values())
        if listing.status == "open" and (listing.kind != "sale" or not listing.offers):
            assert answer.status_code == 422, answer.text
            return multiple()
        if listing.status != "open" or pending:
            assert answer.status_code == 409, answer.text
            return multiple()
        assert answer.status_code == 201, answer.text
        offer = answer.json()
        self.offered[offer["id"]] = Offer(listing_id, who, Decimal(amount))
        return offer["id"]

    @rule(target=deals, offer_id=offers, step=st.sampled_from(("accept", "decline", "withdraw")))
    def answer_an_offer(self, offer_id, step):
        offer = self.offered[offer_id]
        by = self.buyers[offer.buyer] if step == "withdraw" else self.seller
        answer = self.run(by.post(f"/offers/{offer_id}/{step}"))
        if offer.status != "pending":
            assert answer.status_code == 409, answer.text
            return multiple()
        assert answer.status_code == 200, answer.text
        offer.status = {"accept": "accepted", "decline": "declined",
                        "withdraw": "withdrawn"}[step]
        if step != "accept":
            return multiple()
        self.listed[offer.listing].status = "taken"
        self.decline_pending(offer.listing)
        deal = self.run(self.new_deal(offer.buyer, offer.listing))
        self.made[deal["id"]] = Deal(offer.buyer, offer.amount, Decimal(deal["fee"]),
                                     "awaiting_payment")
        return deal["id"]

    def decline_pending(self, listing_id: str) -> None:
        for offer in self.offered.values():
            if offer.listing == listing_id and offer.status == "pending":
                offer.status = "declined"

    async def new_deal(self, who: int, listing_id: str) -> dict:
        """The transaction a step began for buyer `who` on the listing, seen as they see it."""
        mine = (await self.buyers[who].get("/transactions", role="buyer")).json()
        [deal] = [d for d in mine if d["listingId"] == listing_id and d["id"] not in self.made]
        return deal

    # --- auctions ---

    @rule(listing_id=listings, who=st.integers(0, 1), too_low=st.booleans())
    def bid(self, listing_id, who, too_low):
        listing, bidder = self.listed[listing_id], self.buyers[who]
        if listing.kind != "auction":
            return
        least = listing.price if listing.leader is None else listing.leader[1] + 5
        amount = least - Decimal("0.01") if too_low else least
        answer = self.run(bidder.post(f"/listings/{listing_id}/bids", {"amount": str(amount)}))
        leading = listing.leader is not None and listing.leader[0] == who
        if listing.status != "open" or too_low or leading or amount > self.money[bidder.id]:
            assert answer.status_code == 409, answer.text
            return
        assert answer.status_code == 201, answer.text
        if listing.leader is not None:
            self.money[self.buyers[listing.leader[0]].id] += listing.leader[1]
        self.money[bidder.id] -= amount
        listing.leader = (who, amount, answer.json()["id"])

    @rule(target=deals, listing_id=listings)
    def an_auction_ends(self, listing_id):
        listing = self.listed[listing_id]
        if listing.kind != "auction" or listing.status != "open":
            return multiple()
        assert self.time_passes("exchange_listings", listing_id, "ends_at").auctions_closed == 1
        if listing.leader is None:
            listing.status = "closed"
            return multiple()
        listing.status = "taken"
        who, amount, _ = listing.leader
        deal = self.run(self.new_deal(who, listing_id))
        assert deal["status"] == "paid"
        self.made[deal["id"]] = Deal(who, amount, Decimal(deal["fee"]), "paid")
        return deal["id"]

    # --- a transaction's steps ---

    @rule(deal_id=deals)
    def pay(self, deal_id):
        deal = self.made[deal_id]
        buyer = self.buyers[deal.buyer]
        answer = self.step(buyer, deal_id, "pay")
        if deal.status != "awaiting_payment" or deal.price > self.money[buyer.id]:
            assert answer.status_code == 409, answer.text
            return
        assert answer.status_code == 200, answer.text
        self.money[buyer.id] -= deal.price
        deal.status = "paid"

    @rule(deal_id=deals)
    def hand_over(self, deal_id):
        self.plain_step(deal_id, self.seller, "hand-over", {"paid"}, "handed_over")

    @rule(deal_id=deals)
    def confirm(self, deal_id):
        deal = self.made[deal_id]
        if self.plain_step(deal_id, self.buyers[deal.buyer], "confirm", {"handed_over"},
                           "completed"):
            self.released(deal)

    @rule(deal_id=deals, by_seller=st.booleans())
    def cancel(self, deal_id, by_seller):
        deal = self.made[deal_id]
        who = self.seller if by_seller else self.buyers[deal.buyer]
        if self.plain_step(deal_id, who, "cancel", {"awaiting_payment"}, "cancelled"):
            self.listed_of(deal_id).status = "open"  # for sale again

    @rule(deal_id=deals, by_seller=st.booleans())
    def dispute(self, deal_id, by_seller):
        deal = self.made[deal_id]
        who = self.seller if by_seller else self.buyers[deal.buyer]
        self.plain_step(deal_id, who, "dispute", {"paid", "handed_over"}, "disputed",
                        {"reason": "It never came."})

    @rule(deal_id=deals, refund=st.booleans())
    def settle_a_dispute(self, deal_id, refund):
        deal = self.made[deal_id]
        assert self.step(self.seller, deal_id, "refund").status_code in (403, 404)
        if not self.plain_step(deal_id, self.admin, "refund" if refund else "release",
                               {"disputed"}, "refunded" if refund else "completed"):
            return
        if refund:
            self.money[self.buyers[deal.buyer].id] += deal.price
        else:
            self.released(deal)

    def step(self, who, deal_id: str, name: str, body: dict | None = None):
        return self.run(who.post(f"/transactions/{deal_id}/{name}", body))

    def plain_step(self, deal_id: str, who, name: str, sources: set[str], target: str,
                   body: dict | None = None) -> bool:
        """A step whose answer depends on the status only: 200 and `target`, or 409."""
        deal = self.made[deal_id]
        answer = self.step(who, deal_id, name, body)
        if deal.status not in sources:
            assert answer.status_code == 409, answer.text
            return False
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == target
        deal.status = target
        return True

    def released(self, deal: Deal) -> None:
        self.money[self.seller.id] += deal.price - deal.fee
        self.fees_taken += deal.fee

    # --- time passing ---

    def time_passes(self, table: str, row_id: str, timer: str) -> sweep.Swept:
        """`timer` of the row moved just past, then the sweep, once."""
        self.run(set_column(self.world.resources, table, row_id,
                            **{timer: datetime.now(UTC) - PAST}))
        return self.run(sweep.sweep(self.world.resources, datetime.now(UTC)))

    @rule(deal_id=deals)
    def payment_time_runs_out(self, deal_id):
        deal = self.made[deal_id]
        swept = self.time_passes("exchange_transactions", deal_id, "pay_by")
        if deal.status == "awaiting_payment":
            assert swept.unpaid_cancelled == 1
            deal.status = "cancelled"
            if self.listed_of(deal_id).kind == "sale":
                self.listed_of(deal_id).status = "open"
        else:
            assert swept.unpaid_cancelled == 0

    @rule(deal_id=deals)
    def handover_window_ends(self, deal_id):
        deal = self.made[deal_id]
        swept = self.time_passes("exchange_transactions", deal_id, "auto_complete_at")
        assert swept.auto_completed == (deal.status == "handed_over")
        if deal.status == "handed_over":
            deal.status = "completed"
            self.released(deal)

    @rule(offer_id=offers)
    def an_offer_expires(self, offer_id):
        offer = self.offered[offer_id]
        swept = self.time_passes("exchange_offers", offer_id, "expires_at")
        assert swept.offers_expired == (offer.status == "pending")
        if offer.status == "pending":
            offer.status = "expired"

    def listed_of(self, deal_id: str) -> Listing:
        return self.listed[self.run(self.deal_view(deal_id))["listingId"]]

    async def deal_view(self, deal_id: str) -> dict:
        return (await self.seller.get(f"/transactions/{deal_id}")).json()

    # --- after every step ---

    @invariant()
    def escrows_and_statuses_are_the_models(self):
        resources = self.world.resources
        for deal_id, deal in self.made.items():
            escrow = self.run(held(resources, "exchange_transaction", deal_id))
            assert escrow == (deal.price if deal.status in HELD else 0), deal
            assert self.run(self.deal_view(deal_id))["status"] == deal.status
        for listing in self.listed.values():
            if listing.leader and listing.status == "open":
                _, amount, bid_id = listing.leader
                assert self.run(held(resources, "exchange_bid", bid_id)) == amount


def test_any_sequence_keeps_the_money_right(committed_settings):
    run_machine(ExchangeMachine, committed_settings, SIDECAR, "panamia_exchange_machine")

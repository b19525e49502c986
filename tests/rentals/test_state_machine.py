"""Random sequences of requests, confirmations, declines, pick-ups, returns, claims,
disputes, settlements, cancellations and expiries, through the rentals' HTTP API, against a
model of what each answer and each balance must be. After every step the ledger is checked
(`panamia ledger check`'s own function), every member's money and every rental's escrow
compared with the model, and nothing is ever negative.

An expiry moves the request's time back in the database, then the sweep runs once. Each
example has members and an item of its own, on a migrated database of the test's own; the
model counts the platform's fees from the example's start."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, invariant, multiple, rule

from panamia.ledger import accounts
from panamia.rentals import expiry
from panamia.rentals.pricing import platform_fee
from panamia.rentals.sidecar import SIDECAR
from tests.exchange.factories import set_column
from tests.fixtures.machines import LedgerMachine, run_machine
from tests.identity.factories import create_user
from tests.rentals.factories import MORNING, create_item, fund

# Three hours at $5 an hour and a $40 deposit: $55 held at confirmation, so a renter with
# $100 can have one rental confirmed at a time, and not two.
FEE, DEPOSIT, MONEY = Decimal("15.00"), Decimal("40.00"), Decimal("100.00")
SLOTS = 3  # distinct days a month ahead, far apart beyond the item's turnaround
ACTIVE = ("requested", "confirmed", "picked_up")
HOLDING_ALL = ("confirmed", "picked_up")
HOLDING_DEPOSIT = ("claimed", "disputed")
PATHS = {"pick_up": "pick-up", "accept_claim": "accept-claim"}


@dataclass
class Rental:
    renter: int
    slot: int
    status: str = "requested"
    claimed: Decimal | None = None


class RentalsMachine(LedgerMachine):
    rentals = Bundle("rentals")

    def __init__(self):
        super().__init__()
        self.asked: dict[str, Rental] = {}
        self.item_id, self.owner, self.admin, *self.renters = self.run(self.people())
        self.money = {self.owner.id: Decimal(0), **{r.id: MONEY for r in self.renters}}

    async def people(self):
        resources = self.world.resources
        owner_id = await create_user(resources)
        item = await create_item(resources, owner_id=owner_id, price=Decimal("5.00"),
                                 deposit=DEPOSIT, buffer_minutes=60)
        renter_ids = [await create_user(resources) for _ in range(2)]
        for renter_id in renter_ids:
            await fund(resources, renter_id, str(MONEY))
        clients = [await self.client(user_id)
                   for user_id in (owner_id, self.world.admin_id, *renter_ids)]
        return item.id, *clients

    # --- asking ---

    @rule(target=rentals, who=st.integers(0, 1), slot=st.integers(0, SLOTS - 1))
    def ask(self, who, slot):
        start = MORNING + timedelta(days=slot)
        answer = self.run(self.renters[who].post("/rentals", {
            "itemId": self.item_id, "startsAt": start.isoformat(),
            "endsAt": (start + timedelta(hours=3)).isoformat()}))
        if any(r.slot == slot and r.status in ACTIVE for r in self.asked.values()):
            assert answer.status_code == 409, answer.text
            return multiple()
        assert answer.status_code == 201, answer.text
        rental = answer.json()
        assert (Decimal(rental["fee"]), Decimal(rental["deposit"])) == (FEE, DEPOSIT)
        self.asked[rental["id"]] = Rental(who, slot)
        return rental["id"]

    # --- the owner's answers and the hand-over ---

    @rule(rental_id=rentals)
    def confirm(self, rental_id):
        rental = self.asked[rental_id]
        renter = self.renters[rental.renter].id
        answer = self.step(self.owner, rental_id, "confirm")
        if rental.status != "requested" or self.money[renter] < FEE + DEPOSIT:
            assert answer.status_code == 409, answer.text
            return
        assert answer.status_code == 200, answer.text
        self.money[renter] -= FEE + DEPOSIT
        rental.status = "confirmed"

    @rule(rental_id=rentals)
    def decline(self, rental_id):
        self.plain_step(rental_id, self.owner, "decline", {"requested"}, "declined")

    @rule(rental_id=rentals, by_owner=st.booleans())
    def cancel(self, rental_id, by_owner):
        rental = self.asked[rental_id]
        who = self.owner if by_owner else self.renters[rental.renter]
        held = rental.status == "confirmed"
        if self.plain_step(rental_id, who, "cancel", {"requested", "confirmed"}, "cancelled") \
                and held:
            self.money[who.id if not by_owner else self.renters[rental.renter].id] += \
                FEE + DEPOSIT

    @rule(rental_id=rentals)
    def pick_up(self, rental_id):
        self.plain_step(rental_id, self.owner, "pick_up", {"confirmed"}, "picked_up")

    @rule(rental_id=rentals)
    def give_back(self, rental_id):
        rental = self.asked[rental_id]
        if self.plain_step(rental_id, self.owner, "return", {"picked_up"}, "returned"):
            self.paid_out()
            self.money[self.renters[rental.renter].id] += DEPOSIT

    # --- claims ---

    @rule(rental_id=rentals, amount=st.sampled_from(("10.00", "40.00", "40.01")))
    def claim(self, rental_id, amount):
        rental, amount = self.asked[rental_id], Decimal(amount)
        answer = self.step(self.owner, rental_id, "claim",
                           {"amount": str(amount), "reason": "A scratch on the case."})
        if rental.status != "picked_up":
            assert answer.status_code == 409, answer.text
            return
        if amount > DEPOSIT:
            assert answer.status_code == 422, answer.text
            return
        assert answer.status_code == 200, answer.text
        rental.status, rental.claimed = "claimed", amount
        self.paid_out()

    @rule(rental_id=rentals)
    def accept_the_claim(self, rental_id):
        rental = self.asked[rental_id]
        if self.plain_step(rental_id, self.renters[rental.renter], "accept_claim", {"claimed"},
                           "settled"):
            self.settled(rental, rental.claimed)

    @rule(rental_id=rentals)
    def dispute(self, rental_id):
        rental = self.asked[rental_id]
        self.plain_step(rental_id, self.renters[rental.renter], "dispute", {"claimed"},
                        "disputed")

    @rule(rental_id=rentals, owner_gets=st.sampled_from(("0.00", "5.00", "10.00", "40.00")))
    def settle(self, rental_id, owner_gets):
        rental, owner_gets = self.asked[rental_id], Decimal(owner_gets)
        assert self.step(self.owner, rental_id, "settle",
                         {"ownerGets": str(owner_gets)}).status_code in (403, 422)
        answer = self.step(self.admin, rental_id, "settle", {"ownerGets": str(owner_gets)})
        if rental.status != "disputed":
            assert answer.status_code in (409, 422), answer.text
            return
        if owner_gets > rental.claimed:
            assert answer.status_code == 422, answer.text
            return
        assert answer.status_code == 200, answer.text
        rental.status = "settled"
        self.settled(rental, owner_gets)

    # --- time passing ---

    @rule(rental_id=rentals)
    def two_days_unanswered(self, rental_id):
        rental = self.asked[rental_id]
        self.run(set_column(self.world.resources, "rentals", rental_id,
                            created_at=datetime.now(UTC) - timedelta(hours=49)))
        expired = self.run(expiry.expire_unanswered(self.world.resources, datetime.now(UTC)))
        assert expired == ([rental_id] if rental.status == "requested" else [])
        if rental.status == "requested":
            rental.status = "expired"

    # --- steps and money ---

    def step(self, who, rental_id: str, name: str, body: dict | None = None):
        return self.run(who.post(f"/rentals/{rental_id}/{PATHS.get(name, name)}", body))

    def plain_step(self, rental_id: str, who, name: str, sources: set[str], target: str) -> bool:
        """A step whose answer depends on the status only: 200 and `target`, or 409."""
        rental = self.asked[rental_id]
        answer = self.step(who, rental_id, name)
        if rental.status not in sources:
            assert answer.status_code == 409, answer.text
            return False
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == target
        rental.status = target
        return True

    def paid_out(self) -> None:
        """The fee to the owner less the platform's share (a return, or a claim)."""
        self.money[self.owner.id] += FEE - platform_fee(FEE)
        self.fees_taken += platform_fee(FEE)

    def settled(self, rental: Rental, owner_gets: Decimal) -> None:
        self.money[self.owner.id] += owner_gets
        self.money[self.renters[rental.renter].id] += DEPOSIT - owner_gets

    # --- after every step ---

    @invariant()
    def escrows_and_statuses_are_the_models(self):
        for rental_id, rental in self.asked.items():
            escrow = self.run(self.world.balance(accounts.escrow("rental", rental_id)))
            expected = (FEE + DEPOSIT if rental.status in HOLDING_ALL
                        else DEPOSIT if rental.status in HOLDING_DEPOSIT else 0)
            assert escrow == expected, rental
            seen = self.run(self.renters[rental.renter].get(f"/rentals/{rental_id}")).json()
            assert seen["status"] == rental.status


def test_any_sequence_keeps_the_money_right(committed_settings):
    run_machine(RentalsMachine, committed_settings, SIDECAR, "panamia_rentals_machine")

"""Any sequence of deposits, payouts, holds, releases and refunds, some refused: balances
match a simple model, and the ledger check finds nothing to report."""

from collections import defaultdict
from decimal import Decimal

from hypothesis import HealthCheck, given, settings, strategies as st

from panamia.db.postgres import new_id
from panamia.ledger import accounts, journal
from panamia.ledger import check as ledger_check
from panamia.ledger.journal import InsufficientFunds, Move

CENT = Decimal("0.01")
STEPS = st.lists(st.tuples(
    st.sampled_from(["deposit", "payout", "hold", "release", "refund"]),
    st.integers(0, 2),  # which member
    st.integers(0, 1),  # which rental
    st.decimals(min_value=CENT, max_value=Decimal(80), places=2),
), max_size=12)


def moves_of(step: str, member: accounts.Account, other: accounts.Account,
             escrow: accounts.Account, amount: Decimal) -> list[tuple]:
    outside = accounts.external("manual")
    fee = (amount / 10).quantize(CENT)
    return {
        "deposit": [(outside, member, amount)],
        "payout": [(member, outside, amount)],
        "hold": [(member, escrow, amount)],
        "release": [(escrow, other, amount - fee), (escrow, accounts.fees(), fee)],
        "refund": [(escrow, member, amount)],
    }[step]


def applied(model: dict, moves: list[tuple]) -> dict | None:
    """The model after `moves`, or None when a member or an escrow would go below zero."""
    after = defaultdict(Decimal, model)
    for source, target, amount in moves:
        after[source] -= amount
        after[target] += amount
    if any(v < 0 for a, v in after.items() if not a.may_go_negative):
        return None
    return after


@settings(max_examples=25, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(steps=STEPS)
async def test_any_sequence_keeps_the_books(resources, connection, steps):
    example = await connection.begin_nested()
    members = [accounts.available(new_id()) for _ in range(3)]
    rentals = [new_id() for _ in range(2)]
    model: dict = defaultdict(Decimal)
    for number, (step, m, r, amount) in enumerate(steps):
        moves = moves_of(step, members[m], members[(m + 1) % 3],
                         accounts.escrow("rental", rentals[r]), amount)
        expected = applied(model, moves)
        try:
            async with resources.db.begin() as db:
                await journal.post(db, event_key=f"prop:{rentals[0]}:{number}", kind=step,
                                   moves=[Move(s, t, a, "USD") for s, t, a in moves])
            assert expected is not None, f"{step} {amount} should have been refused"
            model = expected
        except InsufficientFunds:
            assert expected is None, f"{step} {amount} was refused"

    async with resources.db.begin() as db:
        for account in [*members, *(accounts.escrow("rental", r) for r in rentals)]:
            assert await journal.balance(db, account, "USD") == model[account]
    held = " UNION ALL ".join(
        f"SELECT 'rental', '{account.owner.partition(':')[2]}', 'USD', {value}"
        for account, value in model.items() if account.kind == "escrow" and value)
    report = await ledger_check.check(resources, {"rentals": held} if held else {})
    assert report.differences == []
    await example.rollback()

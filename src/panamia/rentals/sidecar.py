"""The rentals sidecar, declared once: found through the `panamia.sidecars` entry point."""

from panamia.outbox import relay
from panamia.rentals import DEFAULT_PORT, NAME, demo, expiry, models, pages
from panamia.rentals.blocking import RENTALS_ON_RECORD
from panamia.rentals.money import HELD_FUNDS
from panamia.rentals.routes import items_router, router
from panamia.sidecar.registry import Sidecar

SIDECAR = Sidecar(
    name=NAME,
    title="Pana MIA rentals",
    default_port=DEFAULT_PORT,
    routers=(items_router, router),
    # The item form's `/items/new` comes before the item's `/items/{item_id}`.
    page_routers=(pages.router,),
    models=(models,),
    demo=demo,
    background=(relay.run_forever, expiry.run_forever),
    docs="docs/rentals.md",
    held_funds=HELD_FUNDS,
    deletion_blockers=RENTALS_ON_RECORD,
)

"""The item exchange sidecar, declared once: found through the `panamia.sidecars` entry point."""

from pathlib import Path

from panamia.exchange import demo, models, pages, sweep
from panamia.exchange.blocking import DEALS_IN_FLIGHT
from panamia.exchange.money import HELD_FUNDS
from panamia.exchange.routes import router
from panamia.exchange.settings import DEFAULT_PORT, public_url
from panamia.outbox import relay
from panamia.sidecar.registry import Sidecar

SIDECAR = Sidecar(
    name="exchange",
    title="Pana MIA exchange",
    default_port=DEFAULT_PORT,
    routers=(router,),
    page_routers=(pages.router,),
    models=(models,),
    demo=demo,
    background=(relay.run_forever, sweep.run_forever),
    templates=Path(__file__).parent / "templates",
    public_url=public_url,
    docs="docs/exchange.md",
    held_funds=HELD_FUNDS,
    deletion_blockers=DEALS_IN_FLIGHT,
)

"""The lending sidecar, declared once; its pyproject.toml names `SIDECAR` in the
`panamia.sidecars` entry-point group."""

from pathlib import Path

from lending import demo, models
from lending.routes import page, router
from panamia.sidecar.registry import Sidecar

SIDECAR = Sidecar(
    name="lending", title="Pana MIA lending", default_port=8002,
    routers=(router,), page_routers=(page,), models=(models,), demo=demo,
    templates=Path(__file__).parent / "templates",
)

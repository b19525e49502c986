"""Members and their articles on the fediverse (ActivityPub): docs/federation.md.

Its deliveries ride the outbox relay's process, so `panamia outbox status` reports them too
(registered here, where any import of the package, the CLI's included, passes)."""

from panamia.federation import delivery
from panamia.outbox import service as outbox_service

outbox_service.reports_also("federation deliveries", delivery.status)

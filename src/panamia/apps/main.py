"""The main app: identity and sign-in, content, and the pages people use."""

from fastapi import FastAPI, Request

from panamia import demo, doctor, pages, purge
from panamia.articles import likes as article_likes
from panamia.articles import cover as article_cover, pages as article_pages
from panamia.articles.routes import router as articles_router
from panamia.federation import api as federation_api, delivery as federation_delivery
from panamia.federation import negotiation, pages as federation_pages
from panamia.federation import routes as federation_routes, service as federation_service
from panamia.identity import account, devices, oauth
from panamia.identity import pages as identity_pages
from panamia.identity.routes import dev_router, router as identity_router
from panamia.ledger import pages as ledger_pages, routes as ledger_routes
from panamia.notifications import email_pages, emails, pages as notification_pages
from panamia.notifications.routes import router as notifications_router
from panamia.outbox import relay
from panamia.profiles import follows as profile_follows
from panamia.profiles import pages as profile_pages, photo as profile_photo
from panamia.profiles.routes import router as profiles_router
from panamia.resources import Resources
from panamia.settings import Settings, get_settings
from panamia.sidecar import registry
from panamia.web import create_service


# The main app's background work: in each of its processes, or in `panamia work`.
BACKGROUND = (relay.run_forever, purge.run_forever, emails.run_forever,
              federation_delivery.run_forever)


def create_app(settings: Settings | None = None, resources: Resources | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.return_sign_ins_to(sidecar.url(settings) for sidecar in registry.discover())
    routers = [identity_router, oauth.router(settings), profiles_router, articles_router,
               account.router, devices.router, notifications_router, doctor.router,
               ledger_routes.router, profile_follows.router, article_likes.router]
    routers += [profile_photo.router, article_cover.router]
    if settings.dev_outbox:
        routers.append(dev_router)
    routers += [profile_photo.page_router, article_cover.page_router]
    routers += [identity_pages.router, devices.page_router, profile_pages.router,
                article_pages.router, notification_pages.router, ledger_pages.router,
                profile_follows.page_router, article_likes.page_router]
    routers += [email_pages.router]
    routers += [federation_routes.router, federation_api.router, federation_api.articles_router,
                federation_pages.router]
    app = create_service(
        settings, title="Pana MIA", process_name="app", routers=routers,
        ensure_indexes=registry.ensure_indexes, resources=resources,
        background=BACKGROUND,
    )
    oauth.install(app, settings)
    federation_service.connect()
    app.add_middleware(negotiation.Negotiation)
    pages.add_to_layout(app, federation_pages.layout)
    pages.install(app)
    pages.add_to_layout(app, demo_sign_in_example)
    registry.add_menu(app, settings)
    app.state.deletion_blockers = registry.deletion_blockers(settings)
    app.state.profile_sections = registry.profile_sections()
    return app


async def demo_sign_in_example(request: Request) -> pages.LayoutPart:
    """The address the sign-in page suggests under `panamia dev` (see `demo.py`)."""
    return pages.LayoutPart({"demo_email": demo.SIGN_IN_EXAMPLE})

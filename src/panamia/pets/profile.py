"""What a member's public profile on the main site shows of their pet sitting (the sidecar's
`profile_section`): their listings taking bookings, their average rating and latest reviews."""

from panamia.pages.rendering import environment
from panamia.pets.listings import service as listings_service
from panamia.pets.reviews import service as reviews_service
from panamia.resources import Resources
from panamia.sidecar.pages import HELPERS

LATEST_REVIEWS = 3


async def profile_section(resources: Resources, user_id: str) -> str | None:
    """None for a member who offers no sitting now and has no reviews."""
    listings = [listing for listing in await listings_service.listings_of(resources, user_id)
                if listing.available]
    reviews = await reviews_service.of_sitter(resources, user_id, latest=LATEST_REVIEWS)
    if not listings and not reviews.count:
        return None
    return environment.get_template("pets/_profile_section.html").render(
        listings=listings, reviews=reviews, pets_url=resources.settings.pets_url, **HELPERS)

"""The front page of the main app: what Pana MIA is, recent articles, a few people."""

from fastapi import Request

from panamia import pages
from panamia.articles import service as articles_service
from panamia.profiles import service as profiles_service

router = pages.page_router()
RECENT_ARTICLES = 5
PEOPLE_SHOWN = 6


@router.get("/")
async def home(request: Request):
    resources = pages.resources_of(request)
    articles = await articles_service.list_articles(resources, None, page_size=RECENT_ARTICLES)
    directory = await profiles_service.directory(resources, q=None, category=None, page=1)
    return await pages.render(request, "home.html", title="Welcome", articles=articles.items,
                              people=directory.items[:PEOPLE_SHOWN])

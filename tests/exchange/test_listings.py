"""Listings through the API: what each kind needs, idempotent creation, browsing, and who may
withdraw one."""

from panamia.identity import cookies
from tests.exchange.factories import auction, free, listed, sale, swap


class TestCreating:
    async def test_each_kind_with_its_terms(self, members):
        async with members() as seller:
            made = [await listed(seller, body()) for body in (sale, auction, swap, free)]
            assert [m["kind"] for m in made] == ["sale", "auction", "swap", "free"]
            on_sale, on_auction = made[0], made[1]
            assert (on_sale["price"], on_sale["seller"]["id"]) == ("100.00", seller.id)
            assert (on_auction["minimumBid"], on_auction["highBid"]) == ("50.00", None)
            assert "reservePrice" not in on_auction

    async def test_terms_that_do_not_fit_the_kind_are_refused(self, members):
        async with members() as seller:
            for body, words in ((sale(price=None), "needs a price"),
                                (free(price="5.00"), "has no price"),
                                (swap(startPrice="5.00"), "has no start price"),
                                (auction(endsAt=None), "starting price and an end time"),
                                (auction(endsAt="2020-01-01T00:00:00Z"), "5 minutes to 30 days"),
                                (auction(reservePrice="10.00"), "not be below the starting"),
                                (sale(price="1.005"), "decimal"),
                                (sale(photos=["javascript:alert(1)"]), "http")):
                refused = await seller.post("/listings", body)
                assert refused.status_code == 422, body
                assert words in refused.text, refused.text

    async def test_the_same_key_lists_once(self, members):
        async with members() as seller:
            key = {"Idempotency-Key": "listing-1"}
            first = await seller.post("/listings", sale(), **key)
            again = await seller.post("/listings", sale(), **key)
            assert again.json()["id"] == first.json()["id"]
            other = await seller.post("/listings", sale(title="Another"), **key)
            assert other.status_code == 422
            assert len((await seller.get("/listings")).json()["items"]) == 1

    async def test_signed_in_with_the_csrf_header_only(self, members, settings):
        async with members() as seller:
            without = await seller.http.post("/listings", json=sale())
            assert without.status_code == 403
            del seller.http.cookies[cookies.session_cookie_name(settings)]
            anonymous = await seller.post("/listings", sale())
            assert anonymous.status_code == 401


class TestBrowsing:
    async def test_filters_and_words(self, members):
        async with members() as seller:
            await listed(seller, sale(title="Blue bicycle", category="bikes"))
            await listed(seller, free(title="Garden chairs", category="furniture",
                                      city="Hialeah"))
            await listed(seller, auction(title="Red bicycle bell"))

            async def titles(**params) -> set[str]:
                found = (await seller.get("/listings", **params)).json()["items"]
                return {item["title"] for item in found}

            assert await titles(kind="free") == {"Garden chairs"}
            assert await titles(city="HIALEAH") == {"Garden chairs"}
            assert await titles(q="bicycle") == {"Red bicycle bell", "Blue bicycle"}
            assert await titles(q="red bicycle") == {"Red bicycle bell"}
            assert await titles(category="Furniture") == {"Garden chairs"}
            assert await titles(q="100%_") == set()

    async def test_taken_and_withdrawn_listings_leave_the_results(self, members):
        async with members() as seller, members() as buyer:
            sold = await listed(seller, sale(title="Sold"))
            await buyer.post(f"/listings/{sold['id']}/buy")
            gone = await listed(seller, sale(title="Gone"))
            await seller.post(f"/listings/{gone['id']}/withdraw")
            assert (await buyer.get("/listings")).json()["items"] == []
            assert (await buyer.get(f"/listings/{gone['id']}")).json()["status"] == "closed"

    async def test_an_unknown_listing_is_404(self, members):
        async with members() as someone:
            assert (await someone.get("/listings/nosuchlisting")).status_code == 404


class TestWithdrawing:
    async def test_the_seller_or_an_admin_only(self, members):
        async with members() as seller, members() as other, members(role="admin") as admin:
            item = await listed(seller, sale())
            assert (await other.post(f"/listings/{item['id']}/withdraw")).status_code == 403
            assert (await admin.post(f"/listings/{item['id']}/withdraw")).status_code == 200
            again = await seller.post(f"/listings/{item['id']}/withdraw")
            assert again.status_code == 409

    async def test_not_an_auction_with_bids(self, members):
        async with members() as seller, members() as bidder:
            item = await listed(seller, auction())
            await bidder.post(f"/listings/{item['id']}/bids", {"amount": "50.00"})
            refused = await seller.post(f"/listings/{item['id']}/withdraw")
            assert refused.status_code == 409
            assert "has bids" in refused.json()["detail"]

    async def test_pending_offers_are_declined(self, members):
        async with members() as seller, members() as buyer:
            item = await listed(seller, sale(openToOffers=True))
            await buyer.post(f"/listings/{item['id']}/offers", {"amount": "50.00"})
            await seller.post(f"/listings/{item['id']}/withdraw")
            [offer] = (await buyer.get(f"/listings/{item['id']}/offers")).json()
            assert offer["status"] == "declined"

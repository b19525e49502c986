"""The exchange's pages as a browser without JavaScript uses them: forms posted with the CSRF
token, answers read as the text a person sees."""

from decimal import Decimal

from tests.exchange.factories import auction, available, free, listed, sale
from tests.fixtures.http import BROWSER, asgi_client, text_of


async def page(member, path: str):
    return await member.http.get(path, headers=BROWSER)


async def submit(member, action: str, data: dict):
    token = member.headers["X-CSRF-Token"]
    return await member.http.post(action, data={**data, "csrfToken": token}, headers=BROWSER)


async def test_browsing_with_filters(members):
    async with members() as seller, members() as visitor:
        await listed(seller, sale(title="Blue bicycle"))
        await listed(seller, free(title="Garden chairs", city="Hialeah"))
        everything = text_of((await page(visitor, "/")).text)
        assert "Blue bicycle" in everything and "Garden chairs" in everything
        gifts = text_of((await page(visitor, "/?kind=free&city=hialeah")).text)
        assert "Garden chairs" in gifts and "Blue bicycle" not in gifts
        assert "Free to a good home" in gifts


async def test_listing_an_item_needs_a_sign_in(exchange_app):
    async with asgi_client(exchange_app) as anonymous:
        answer = await anonymous.get("/listings/new", headers=BROWSER)
    assert answer.status_code == 401
    assert "Sign in on Pana MIA" in answer.text


async def test_listing_an_item_through_the_form(members):
    async with members() as seller:
        form = {"kind": "auction", "title": "Record player", "category": "music",
                "condition": "good", "city": "Miami", "startPrice": "30", "days": "3"}
        made = await submit(seller, "/listings/new", form)
        assert made.status_code == 303, made.text
        shown = text_of((await seller.http.get(made.headers["location"], headers=BROWSER)).text)
        assert "Your item is listed." in shown
        assert "Record player" in shown and "No bids yet" in shown


async def test_the_form_says_what_is_wrong_in_plain_words(members):
    async with members() as seller:
        refused = await submit(seller, "/listings/new", {
            "kind": "sale", "title": "", "category": "bikes", "condition": "good",
            "city": "Miami", "price": "lots", "photos": "not a link"})
        assert refused.status_code == 422
        shown = text_of(refused.text)
        assert "Title: Fill this in." in shown
        assert "Price: Enter an amount such as 25 or 25.50." in shown
        assert "Give one web address" in shown
        assert "startPrice" not in shown and "{" not in shown


async def test_bidding_on_the_item_page(members):
    async with members() as seller, members() as ana:
        item = await listed(seller, auction(title="Old guitar"))
        low = await submit(ana, f"/listings/{item['id']}/bids", {"amount": "10"})
        assert low.status_code == 409
        assert "Bid at least $50.00" in text_of(low.text)
        placed = await submit(ana, f"/listings/{item['id']}/bids", {"amount": "$50"})
        assert placed.status_code == 303
        shown = text_of((await page(ana, f"/listings/{item['id']}")).text)
        assert "Your bid of $50.00 leads" in shown
        assert "$50.00 by" in shown and "Next bid at least $55.00" in shown
        own = await submit(seller, f"/listings/{item['id']}/bids", {"amount": "90"})
        assert own.status_code == 403
        assert "own auction" in text_of(own.text)


async def test_from_offer_to_paid_through_the_pages(members):
    async with members() as seller, members() as ana:
        item = await listed(seller, sale(openToOffers=True, title="Oak desk"))
        sent = await submit(ana, f"/listings/{item['id']}/offers",
                            {"amount": "80", "message": "Today?"})
        assert sent.status_code == 303, sent.text
        [made] = (await seller.get(f"/listings/{item['id']}/offers")).json()
        seen = text_of((await page(seller, f"/listings/{item['id']}")).text)
        assert "$80.00 · “Today?”" in seen and "Accept" in seen
        accepted = await submit(seller, f"/offers/{made['id']}/answer",
                                {"step": "accept", "listingId": item["id"]})
        assert accepted.status_code == 303
        mine = text_of((await page(ana, "/transactions")).text)
        assert "Waiting for payment" in mine and "Pay now" in mine
        [deal] = (await ana.get("/transactions")).json()
        paid = await submit(ana, f"/transactions/{deal['id']}/step", {"step": "pay"})
        assert paid.status_code == 303
        after = text_of((await page(ana, paid.headers["location"])).text)
        assert "Paid, money held" in after and "Pay now" not in after
        theirs = text_of((await page(seller, f"/transactions/{deal['id']}")).text)
        assert "I handed it over" in theirs
        assert "you receive $76.00 after the platform's $4.00" in theirs


async def test_a_dispute_needs_a_reason(members):
    async with members() as seller, members() as ana:
        item = await listed(seller, sale())
        deal = (await ana.post(f"/listings/{item['id']}/buy")).json()
        await ana.post(f"/transactions/{deal['id']}/pay")
        empty = await submit(ana, f"/transactions/{deal['id']}/step", {"step": "dispute"})
        assert empty.status_code == 422, empty.text
        assert "Say what went wrong" in text_of(empty.text)
        opened = await submit(ana, f"/transactions/{deal['id']}/step",
                              {"step": "dispute", "reason": "Scratched top"})
        assert opened.status_code == 303
        shown = text_of((await page(seller, f"/transactions/{deal['id']}")).text)
        assert "Disputed: “Scratched top”" in shown


async def test_an_administrator_settles_a_dispute_from_the_disputes_page(members, resources):
    async with members() as seller, members() as ana, members(role="admin") as admin:
        item = await listed(seller, sale(title="Lamp"))
        deal = (await ana.post(f"/listings/{item['id']}/buy")).json()
        await ana.post(f"/transactions/{deal['id']}/pay")
        await ana.post(f"/transactions/{deal['id']}/dispute", {"reason": "Broken"})
        assert (await page(ana, "/disputes")).status_code == 403
        listed_disputes = text_of((await page(admin, "/disputes")).text)
        assert "Disputes to settle" in listed_disputes and "Lamp" in listed_disputes
        assert "Refund the buyer" in listed_disputes and "Report a problem" not in listed_disputes
        refunded = await submit(admin, f"/transactions/{deal['id']}/step", {"step": "refund"})
        assert refunded.status_code == 303
        assert await available(resources, ana.id) == Decimal("1000.00")
        assert "Refunded" in text_of((await page(ana, f"/transactions/{deal['id']}")).text)

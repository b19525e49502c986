"""What of the exchange keeps a member's account from being deleted (the trigger of migration
20261206082541 refuses while it is in flight), as the account pages list it."""

DEALS_IN_FLIGHT = """
SELECT 'Your leading bid on ' || l.title, '/listings/' || l.id
  FROM exchange_bids b JOIN exchange_listings l ON l.id = b.listing_id
 WHERE b.bidder_id = :user_id AND b.status = 'leading'
UNION ALL
SELECT 'Your auction of ' || title || ', which has bids', '/listings/' || id
  FROM exchange_listings
 WHERE seller_id = :user_id AND kind = 'auction' AND status = 'open' AND bid_count > 0
UNION ALL
SELECT CASE WHEN t.buyer_id = :user_id THEN 'Your purchase of ' ELSE 'Your sale of ' END
       || l.title || ', not yet completed', '/transactions/' || t.id
  FROM exchange_transactions t JOIN exchange_listings l ON l.id = t.listing_id
 WHERE (t.buyer_id = :user_id OR t.seller_id = :user_id)
   AND t.status IN ('awaiting_payment', 'paid', 'handed_over', 'disputed')
"""

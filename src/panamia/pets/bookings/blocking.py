"""What of pet sitting keeps a member's account from being deleted: the bookings the trigger
of migration 20261125042617 protects (pending or confirmed), as the account pages list them."""

ACTIVE_BOOKINGS = """
SELECT CASE WHEN b.owner_id = :user_id THEN 'Your booking of ' ELSE 'A booking of your listing '
       END || l.title || ', ' || to_char(b.start_date, 'FMMonth FMDD') || ' to '
       || to_char(b.end_date, 'FMMonth FMDD, YYYY')
       || CASE b.status WHEN 'pending' THEN ', waiting for an answer' ELSE ', confirmed' END,
       '/bookings'
  FROM bookings b JOIN listings l ON l.id = b.listing_id
 WHERE (b.owner_id = :user_id OR b.sitter_id = :user_id) AND b.status IN ('pending', 'confirmed')
 ORDER BY b.start_date, b.id
"""

"""What of rentals keeps a member's account from being deleted, as the account pages list it:
the trigger of migration 20261206082541 refuses while a rental is not settled, and the
rentals' foreign keys keep every rental on record for the other member."""

RENTALS_ON_RECORD = """
SELECT CASE WHEN r.renter_id = :user_id THEN 'Your rental of ' ELSE 'The rental of your ' END
       || i.title || ' on ' || to_char(r.starts_at AT TIME ZONE i.timezone, 'FMMonth FMDD, YYYY')
       || CASE WHEN r.status IN ('confirmed', 'picked_up', 'claimed', 'disputed')
               THEN ', not yet settled' ELSE ', kept on record for the other member' END,
       '/rentals'
  FROM rentals r JOIN rental_items i ON i.id = r.item_id
 WHERE r.owner_id = :user_id OR r.renter_id = :user_id
 ORDER BY r.starts_at DESC, r.id
"""

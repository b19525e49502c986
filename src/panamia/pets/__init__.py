"""The pet-sitting sidecar: listings, bookings, availability and reviews."""

"""Messages between the two parties of a booking: a thread on the booking."""

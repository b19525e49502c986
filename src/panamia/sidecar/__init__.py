"""The kit every transactional sidecar is built from."""

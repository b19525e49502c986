"""Members and their articles on the fediverse (ActivityPub): docs/federation.md."""

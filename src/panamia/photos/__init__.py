"""Photos: uploads checked by content, re-encoded without metadata, resized and stored."""

"""Follows between members and likes of articles, local and remote alike."""

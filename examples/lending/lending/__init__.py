"""Lending things between members: a sidecar in a package of its own (docs/sidecars.md)."""

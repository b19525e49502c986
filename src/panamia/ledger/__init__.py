"""The double-entry money ledger every sidecar posts to (docs/ledger.md): `accounts` names
the accounts, `journal.post` records one business event's moves, `providers` bring money in
and out, `check` re-verifies the invariants."""

"""The chaos suite: ``python -m tools.chaos`` runs faults under load on a throwaway
stack, then checks the invariants (docs/reliability.md)."""

"""The kit's foundation: the step manifest, the results contract, the kit home, errors.

Imports nothing else of the kit; every other part builds on it (docs/architecture.md)."""

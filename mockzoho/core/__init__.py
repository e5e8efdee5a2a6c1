"""What every API family shares: the family registry, the error base, responses, the per-request context."""

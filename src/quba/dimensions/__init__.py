"""The nine quality dimensions, their registry, and the protocols."""

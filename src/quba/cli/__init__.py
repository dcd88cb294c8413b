"""The command-line interface: one module per command, each with a ``register(app)`` function."""

"""Callback jobs: the durable store, the worker that runs them and the sender that delivers them."""

"""Inference: batched forward passes, the prediction cache, adversarial attacks."""

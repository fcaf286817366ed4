"""Signed webhooks: events written with each change (events.py), delivered by the worker
(delivery.py), signed like Stripe's (signing.py)."""

"""Resilient, typed HTTP clients for the user, notification and payment services."""

__all__: list[str] = []

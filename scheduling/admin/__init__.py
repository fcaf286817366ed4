"""Staff admin for the calendar."""

from scheduling.admin import appointments, orders, rules  # noqa: F401  (each registers its models)

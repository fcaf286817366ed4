"""Staff admin for the calendar."""

from scheduling.admin import appointments, orders, reminders, rules  # noqa: F401  (each registers its models)

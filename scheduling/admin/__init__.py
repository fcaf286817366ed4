"""Staff admin for the calendar."""

from scheduling.admin import appointments, careplans, orders, reminders, rules, waitlist  # noqa: F401  (each registers its models)

"""Staff admin for the calendar."""

from scheduling.admin import appointments, elsewhere, orders, reminders, rules, waitlist  # noqa: F401  (each registers its models)

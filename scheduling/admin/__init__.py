"""Staff admin for the calendar."""

# Each module registers its models.
from scheduling.admin import appointments, elsewhere, orders, reminders, rules, waitlist  # noqa: F401

"""Staff admin for the calendar."""

# Each module registers its models.
from scheduling.admin import appointments, careplans, elsewhere, feeds, orders, reminders, rules, waitlist, webhooks  # noqa: F401

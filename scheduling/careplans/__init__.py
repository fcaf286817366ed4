"""Care plans: the proposed timeline (timeline.py) and, beside it, the gates (gates.py)."""

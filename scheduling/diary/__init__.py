"""The patient's pain diary after a diagnostic block: its prompt times and window
(`prompts`), and the relief computed from it (`summary`, pure)."""

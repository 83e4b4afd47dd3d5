"""The operator side: announcements and groups (API now; the web console builds on it)."""

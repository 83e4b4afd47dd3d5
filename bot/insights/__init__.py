"""Insights: what the assistant records about its traffic and the figures operators read."""

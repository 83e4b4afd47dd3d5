"""Scheduled announcements into community groups."""

"""Adapters for chat platforms the assistant speaks to natively, each a thin translation
between the platform's wire format and the community contract (docs/community-channel.md)."""

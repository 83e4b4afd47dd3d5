"""The community channel: groups and private chats of any chat platform."""

"""Telegram (Bot API) adapter: a thin translation between Telegram's updates and methods and
the community contract (docs/community-channel.md); set up as described in docs/telegram.md.

- channel.py: the webhook (`TelegramInput`), Update JSON in, contract events to the core
- updates.py, commands.py: Update JSON -> contract event
- render.py: an outbound reply -> Bot API calls (sendMessage ...)
- sender.py, pacing.py: the outbox sender, at Telegram's pace
- api.py: the Bot API client; cli.py: `python -m bot telegram ...`
"""

PLATFORM = "telegram"

"""Hand-off of conversations the bot cannot resolve to people."""

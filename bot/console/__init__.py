"""The agent console and its JSON API, served by the Rasa server under /agent."""

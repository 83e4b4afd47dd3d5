"""Community assistant: services, data model and runtime around the Rasa bot."""

"""Custom actions, one module per feature. Each parses slots, calls a service in `bot`,
and formats the reply through the domain's bilingual responses."""

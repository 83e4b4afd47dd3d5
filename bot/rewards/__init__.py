"""The points mall: members redeem points for rewards in chat; agents cancel a redemption;
operators keep the catalog; the scheduler reminds members before their points expire.

- catalog.py: which rewards a member may see, afford, or nearly afford; a typed name to a reward
- redeem.py: the confirmation asked (a quote) and its one-time use, all money-grade
- cancel.py: an agent's cancellation, with the reversing ledger entries
- fulfil.py: a gift shipped, a code used at the till; warehouse.py: the to-ship list, batches
- notices.py: telling the member privately (only where the bot may write first)
- inputs.py: what agents type about a redemption (reason, carrier, tracking), checked
- admin.py: the operators' catalog edits, validated and audited
- reminders.py: the expiring-points reminders
- retention.py: old confirmations and delivery addresses forgotten (RETENTION_DAYS)
"""

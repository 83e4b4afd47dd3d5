"""Loyalty services the actions call: members, points, promotions, orders, linking."""

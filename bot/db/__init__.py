"""The one data model and its database sessions."""
from bot.db.models import (  # noqa: F401
    Base,
    ChatIdentity,
    CommunityGroup,
    InboundEvent,
    OutboundMessage,
    PendingWelcome,
    HandoffRequest,
    LinkAttempt,
    Member,
    Order,
    OrderItem,
    OrderStatusEvent,
    PointsTransaction,
    Promotion,
    PromotionText,
)
from bot.db.session import get_engine, session_scope  # noqa: F401

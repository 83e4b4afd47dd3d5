"""The one data model and its database sessions."""
from bot.db.models import (  # noqa: F401
    Agent,
    AgentSession,
    Base,
    CannedReply,
    ChatIdentity,
    CommunityGroup,
    InboundEvent,
    OutboundMessage,
    PendingWelcome,
    LinkAttempt,
    Member,
    Order,
    OrderItem,
    OrderStatusEvent,
    PointsTransaction,
    Promotion,
    PromotionText,
    Ticket,
    TicketMessage,
)
from bot.db.session import get_engine, session_scope  # noqa: F401

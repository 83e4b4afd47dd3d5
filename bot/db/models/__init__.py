"""The one data model, split by concern; import everything from `bot.db.models`."""
from bot.db.models.base import ORDER_STATUSES, TIERS, Base
from bot.db.models.loyalty import (
    Member, ChatIdentity, PointsTransaction, Promotion, PromotionText, Order, OrderItem, OrderStatusEvent,
    LinkAttempt)
from bot.db.models.handoff import (
    Agent, AgentSession, LoginFailure, Ticket, TicketMessage, TicketLabel, CannedReply, Team, AgentTeam, CategoryRoute, DbMutex)
from bot.db.models.channels import (
    CommunityGroup, PendingWelcome, InboundEvent, OutboundMessage, PrivateChat, Continuation, ButtonPayload, ReplyUrl)
from bot.db.models.announcements import Announcement, AnnouncementDelivery
from bot.db.models.conversations import Conversation, ConversationEvent
from bot.db.models.operator import AuditEntry, ModelJob, ModelDeployment, ModelFile
from bot.db.models.leases import Lease
from bot.db.models.rewards import REWARD_KINDS, PointsReminder, Redemption, Reward, RewardQuote, RewardText
from bot.db.models.insights import GroupJoin, InsightDaily, InsightRollupState, MessageRecord, UnansweredReview

__all__ = [
    "Base", "TIERS", "ORDER_STATUSES", "Member", "ChatIdentity", "PointsTransaction", "Promotion",
    "PromotionText", "Order", "OrderItem", "OrderStatusEvent", "LinkAttempt", "Agent", "AgentSession", "LoginFailure",
    "Ticket", "TicketMessage", "TicketLabel", "CannedReply", "CommunityGroup", "PendingWelcome", "InboundEvent",
    "OutboundMessage", "PrivateChat", "Continuation", "ButtonPayload", "ReplyUrl", "Announcement", "AnnouncementDelivery", "AuditEntry", "ModelJob", "ModelDeployment",
    "Conversation", "ConversationEvent", "ModelFile", "Lease",
    "Team", "AgentTeam", "CategoryRoute", "DbMutex",
    "MessageRecord", "GroupJoin", "InsightDaily", "InsightRollupState", "UnansweredReview",
    "Reward", "RewardText", "RewardQuote", "Redemption", "PointsReminder", "REWARD_KINDS",
]

"""Every table of Chasqui, as SQLAlchemy 2 declarative models (one module per aggregate)."""

from chasqui.db.base import Base
from chasqui.db.models.accounts import ROLES, AuditLog, Membership, User
from chasqui.db.models.api import ApiToken
from chasqui.db.models.catalog import Product, ProductVariant, Promotion, ReplyTemplate
from chasqui.db.models.conversation import (
    CONVERSATION_STATES,
    MESSAGE_DIRECTIONS,
    MESSAGE_SENDERS,
    Contact,
    Conversation,
    Escalation,
    Message,
)
from chasqui.db.models.inbox import CannedResponse, ConversationNote
from chasqui.db.models.llm import LlmUsage
from chasqui.db.models.nlu import MODEL_STATUSES, SAMPLE_SOURCES, Intent, ModelVersion, TrainingSample
from chasqui.db.models.platform import PlatformSetting
from chasqui.db.models.sales import FULFILLMENTS, ORDER_STATUSES, Cart, CartItem, Order, OrderItem
from chasqui.db.models.sessions import PanelSession
from chasqui.db.models.tenant import (
    BotSettings,
    BusinessSettings,
    DeliveryZone,
    NotificationSettings,
    PaymentMethod,
    Tenant,
)
from chasqui.db.models.transport import OUTBOX_STATUSES, OutboxMessage, WebhookEvent

__all__ = [
    "CONVERSATION_STATES",
    "FULFILLMENTS",
    "MESSAGE_DIRECTIONS",
    "MESSAGE_SENDERS",
    "MODEL_STATUSES",
    "ORDER_STATUSES",
    "OUTBOX_STATUSES",
    "ROLES",
    "SAMPLE_SOURCES",
    "ApiToken",
    "AuditLog",
    "Base",
    "BotSettings",
    "BusinessSettings",
    "CannedResponse",
    "Cart",
    "CartItem",
    "Contact",
    "Conversation",
    "ConversationNote",
    "DeliveryZone",
    "Escalation",
    "Intent",
    "LlmUsage",
    "Membership",
    "Message",
    "ModelVersion",
    "NotificationSettings",
    "Order",
    "OrderItem",
    "OutboxMessage",
    "PanelSession",
    "PaymentMethod",
    "PlatformSetting",
    "Product",
    "ProductVariant",
    "Promotion",
    "ReplyTemplate",
    "Tenant",
    "TrainingSample",
    "User",
    "WebhookEvent",
]

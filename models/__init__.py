"""Beanie documents and the rules that belong to the data."""

from __future__ import annotations

from beanie import Document

from models.agency import Agency, Clerk, Staff
from models.announcement import Announcement, AnnouncementBatch, BatchDevices, BatchOutcomes, BatchSlice
from models.audit import AccessRecord, AuditChainHead
from models.catalogue import Service
from models.citizen import AuthSession, Citizen, Device
from models.consent import Consent
from models.dossier import Dossier
from models.notification import Notification, OutboxSweepMark
from models.payment import CallbackNonce, Payment
from models.postal import PostalLetter, PostalOperator
from models.preferences import NotificationPreferences
from models.presentation import Presentation
from models.signing_key import SigningKey
from models.sms import SmsMessage
from models.statistics import (
    Backlog,
    DailyStats,
    DossierFacts,
    ExpectedLateNotice,
    MonthlyStats,
    RecentProcessing,
    StatsView,
)
from models.support import AssistedSession, ConsentCode, SupportLookup
from models.wallet import WalletDocument
from models.webhook import WebhookDelivery, WebhookSubscription

ALL_DOCUMENTS: list[type[Document]] = [
    AccessRecord,
    AssistedSession,
    AuditChainHead,
    ConsentCode,
    Agency,
    Announcement,
    AnnouncementBatch,
    BatchDevices,
    BatchOutcomes,
    BatchSlice,
    AuthSession,
    Citizen,
    Consent,
    Device,
    Dossier,
    Notification,
    NotificationPreferences,
    OutboxSweepMark,
    CallbackNonce,
    Clerk,
    Payment,
    PostalLetter,
    PostalOperator,
    Presentation,
    Service,
    SigningKey,
    SmsMessage,
    Staff,
    SupportLookup,
    WalletDocument,
    WebhookDelivery,
    WebhookSubscription,
    # Statistics rollups (decision 26).
    Backlog,
    DailyStats,
    DossierFacts,
    ExpectedLateNotice,
    MonthlyStats,
    RecentProcessing,
    StatsView,
]

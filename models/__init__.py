"""Beanie documents and the rules that belong to the data."""

from __future__ import annotations

from beanie import Document

from models.agency import Agency, Staff
from models.audit import AccessRecord
from models.catalogue import Service
from models.citizen import AuthSession, Citizen, Device
from models.dossier import Dossier
from models.notification import Notification
from models.wallet import WalletDocument

ALL_DOCUMENTS: list[type[Document]] = [
    AccessRecord,
    Agency,
    AuthSession,
    Citizen,
    Device,
    Dossier,
    Notification,
    Service,
    Staff,
    WalletDocument,
]

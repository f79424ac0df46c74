"""Every ORM class, one module per table. Importing this package registers them all on Base.metadata."""

from callbot.models.api_session import ApiSession
from callbot.models.callback import CallbackSettings
from callbot.models.credential import Credential
from callbot.models.customer import Customer, CustomerImport, ImportRejection
from callbot.models.dnc import DncEntry
from callbot.models.line import Line
from callbot.models.outbox import DeliveryAttempt, OutboxEvent
from callbot.models.record import CallRecord
from callbot.models.script import Script, ScriptVersion
from callbot.models.seen_signature import SeenSignature
from callbot.models.stats import TaskStats, TaskStatsDaily
from callbot.models.task import Task, task_lines
from callbot.models.tenant import Tenant
from callbot.models.user import User

__all__ = [
    "ApiSession",
    "CallRecord",
    "CallbackSettings",
    "Credential",
    "Customer",
    "CustomerImport",
    "DeliveryAttempt",
    "DncEntry",
    "ImportRejection",
    "Line",
    "OutboxEvent",
    "Script",
    "ScriptVersion",
    "SeenSignature",
    "Task",
    "TaskStats",
    "TaskStatsDaily",
    "Tenant",
    "User",
    "task_lines",
]

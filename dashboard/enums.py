from __future__ import annotations

from django.db import models


class Environment(models.TextChoices):
    EMULATOR = "emulator", "Emulator (offline)"
    SANDBOX = "sandbox", "Sandbox"
    LIVE = "live", "Live"


# Where boto3 points for each environment when the account names no endpoint of its own.
DEFAULT_ENDPOINTS = {
    Environment.SANDBOX: "https://mturk-requester-sandbox.us-east-1.amazonaws.com",
    Environment.LIVE: "https://mturk-requester.us-east-1.amazonaws.com",
}


class Action(models.TextChoices):
    """What a user may do on a requester account; each value is a permission codename."""

    VIEW = "view_account_data", "View account data"
    PREVIEW = "preview_questions", "Preview questions"
    REVIEW = "review_assignments", "Approve and reject assignments"
    EXPORT = "export_results", "Export results"
    PUBLISH = "publish_hits", "Publish, extend and expire HITs"
    PAY_BONUSES = "pay_bonuses", "Pay bonuses"
    MANAGE_WORKERS = "manage_workers", "Block workers and message them"
    MANAGE_QUALIFICATIONS = "manage_qualifications", "Manage qualifications"
    MANAGE_ACCOUNTS = "manage_accounts", "Manage requester accounts"
    MANAGE_USERS = "manage_users", "Manage users and account membership"


RESEARCH_STAFF_GROUP = "Research staff"
LAB_ADMIN_GROUP = "Lab admin"

RESEARCH_STAFF_ACTIONS = (Action.VIEW, Action.PREVIEW, Action.REVIEW, Action.EXPORT)
LAB_ADMIN_ACTIONS = tuple(Action)

# The permission table: what each role's group holds. dashboard.roles.sync_roles makes the
# database agree with it (in the data migration and after every migrate and flush).
ROLES: dict[str, tuple[Action, ...]] = {
    RESEARCH_STAFF_GROUP: RESEARCH_STAFF_ACTIONS,
    LAB_ADMIN_GROUP: LAB_ADMIN_ACTIONS,
}


class JobState(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Finished"
    FAILED = "failed", "Failed"

    @classmethod
    def finished(cls) -> tuple[str, ...]:
        return (cls.SUCCEEDED, cls.FAILED)


class JobKind(models.TextChoices):
    """Every kind of long operation (dashboard.jobs). Each app registers the handlers of its kinds
    in its AppConfig.ready()."""

    SYNC = "sync", "Sync now"
    NOTIFICATIONS_CONFIGURE = "notifications.configure", "Configure notifications"
    NOTIFICATIONS_TEST = "notifications.test", "Send a test notification"
    REVIEW_DECIDE = "review.decide", "Send review decisions"
    DEMO_PUBLISH = "demo.publish", "Publish the demo study"
    BONUS_PAY = "bonus.pay", "Pay bonuses"
    WORKER_BLOCK = "worker.block", "Block or unblock workers"
    WORKER_MESSAGE = "worker.message", "Message workers"
    QUALIFICATION_GRANT = "qualification.grant", "Grant or revoke qualifications"
    QUALIFICATION_REQUESTS = "qualification.requests", "Decide qualification requests"
    PUBLISH_BATCH = "publish.batch", "Publish a batch"
    HIT_CHANGE = "hit.change", "Change live HITs"
    STUDY_GROUP_EXCLUDE = "study_group.exclude", "Exclude a study group's workers"


class IntentState(models.TextChoices):
    """The life of an intent (a change we mean to make at MTurk; see dashboard.intents)."""

    PENDING = "pending", "Waiting"
    SENDING = "sending", "Sending to MTurk"
    DONE = "done", "Done"
    ALREADY = "already", "Already done at MTurk"
    FAILED = "failed", "Failed"
    GAVE_UP = "gave_up", "Gave up after repeated errors"

    @classmethod
    def open(cls) -> tuple[str, ...]:
        """Not finished: a worker may still send it."""
        return (cls.PENDING, cls.SENDING)

    @classmethod
    def failures(cls) -> tuple[str, ...]:
        return (cls.FAILED, cls.GAVE_UP)


class AuditOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    REQUESTED = "requested", "Requested"


class EventSource(models.TextChoices):
    SQS = "sqs", "SQS"
    SNS = "sns", "SNS webhook"


class SyncKind(models.TextChoices):
    REVIEWABLE = "reviewable", "Reviewable HITs"
    FULL = "full", "Full reconciliation"
    ACTIVE = "active", "Active HITs"
    BALANCE = "balance", "Balance"
    QUALIFICATIONS = "qualifications", "Qualification types"
    BLOCKS = "blocks", "Worker blocks"
    BONUSES = "bonuses", "Bonuses"

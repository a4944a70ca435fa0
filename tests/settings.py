"""Settings for the test run: the real settings, read from the environment as in production,
with development defaults where the environment says nothing, and a private broker folder."""

from __future__ import annotations

import os
import tempfile
import uuid

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="dashboard-test-var-"))
# A fixed key so encrypted values are reproducible across a run; never used outside tests.
os.environ.setdefault("CREDENTIALS_KEY", "u0IrsC2w7mJ6a0qQ4g8l4oN4zX3V0m9q8b7c6d5e4f0=")
# Tests talk to the in-process emulator; the account limiter must not be what they measure.
os.environ.setdefault("MTURK_RATE_LIMIT_PER_SECOND", "1000")
os.environ.setdefault("MTURK_RATE_LIMIT_BURST", "100")
# Tests run tasks inline: a task per event, not one per window (the window is tested on its own).
os.environ.setdefault("NOTIFICATIONS_APPLY_DELAY_SECONDS", "0")
# Every run consumes its own queue, so runs never see each other's messages on a shared Redis.
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", f"dashboard-test-{uuid.uuid4().hex[:12]}")

from dashboard.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not SQLite's shared in-memory database: worker processes started by tests (the crash
    # test) must open the same test database, and a file honours the busy timeout where the shared
    # cache raises "database table is locked" at once. VAR_DIR is a fresh temporary folder per run.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}  # noqa: F405

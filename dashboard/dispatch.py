"""Enqueueing a Celery task by its registered name.

Services sit below the task modules that wrap them (tasks call services, never the reverse), so a
service that must hand work to the worker names the task instead of importing it. The name is
resolved to the registered task object, so settings such as `task_always_eager` still apply.
"""

from __future__ import annotations

from typing import Any

from dashboard.celery import app


def enqueue_task(name: str, /, **kwargs: Any) -> None:
    """Send the task registered as `name` with these keyword arguments."""
    if name not in app.tasks:
        # A worker imports every app's tasks module at start; other processes (web, commands)
        # do it on first use.
        app.loader.import_default_modules()
    if name not in app.tasks:
        raise LookupError(f"No Celery task is registered as {name!r}.")
    app.tasks[name].apply_async(kwargs=kwargs)

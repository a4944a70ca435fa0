"""Thin Celery wrappers over the people services. Celery imports `people.tasks`; the tasks live
in one module per feature, imported here so they are registered."""

from __future__ import annotations

from people.tasks import blocks, bonuses, messages

__all__ = ["blocks", "bonuses", "messages"]

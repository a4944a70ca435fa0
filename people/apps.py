from __future__ import annotations

from django.apps import AppConfig


class PeopleConfig(AppConfig):
    """What the lab does with the workers it meets: the worker directory, bonuses, blocks,
    messages and study groups. Above `hits` (it reads work across studies); `workers` below it is
    the mirror of what MTurk says about workers."""

    name = "people"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: these modules use models, which exist once apps load.
        from dashboard.enums import JobKind
        from dashboard.jobs import register_job_handler
        from people.jobs import blocks, bonuses, messages, study_groups
        from qualifications.services import register_worker_directory
        from workers.models import Worker

        register_job_handler(JobKind.BONUS_PAY, bonuses.carry_out_bonuses)
        register_job_handler(JobKind.WORKER_MESSAGE, messages.carry_out_messages)
        register_job_handler(JobKind.WORKER_BLOCK, blocks.carry_out_block_changes)
        register_job_handler(JobKind.STUDY_GROUP_EXCLUDE, study_groups.carry_out_group_exclusion)
        # A file of qualification grants names workers: the preview says which the account has
        # never met (qualifications sits beside workers and may not read the directory itself).
        register_worker_directory(
            lambda account, ids: Worker.objects.filter(
                account=account, worker_id__in=ids
            ).values_list("worker_id", flat=True)
        )

"""Copy a study: the publish form prefilled from what the server has on record, a publish batch or
a HIT type (the latest batch of a HIT type the dashboard published, else the mirror's HIT type
and one of its HITs' Question).

Reading a copy (`copy_of_batch`, `copy_of_hit_type`) writes nothing: it only finds the template
and the requirement preset the new batch would use. What a copy lacks is made by
`make_copy_ready` (a POST): a template from the batch's snapshot or from the HIT's Question, and
a preset "<title> (copied)" holding the copied requirements. Both are found again by their
content, so the GET after the POST needs no id in its URL and a second POST makes nothing twice.

The lab's own exclusions among the copied requirements (the soft-block type, a study group's
type) become the form's "keep soft-blocked workers out" and study groups instead, so they stay
choices in the new batch; the old batch's micro-batching exclusion is not copied (a new batch
gets its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Q

from dashboard.models import RequesterAccount
from hits.models import HIT, HITType
from mturk import answers
from mturk.notifications import ALL_EVENT_TYPES, DEFAULT_EVENT_TYPES
from mturk.requesting import check_requirements
from publishing.enums import TemplateKind
from publishing.models import PublishBatch, QuestionTemplate, RequirementPreset
from publishing.publish import EXCLUSION_KEY
from publishing.questions import save_template
from publishing.requirements import GROUP_PREFIX, SOFT_BLOCK, row_for

__all__ = ["CopiedStudy", "TemplateDraft", "copy_of_batch", "copy_of_hit_type", "make_copy_ready"]

# The keys of a QualificationRequirement that MTurk takes back (a synced HIT may carry others).
_REQUIREMENT_KEYS = (
    "QualificationTypeId",
    "Comparator",
    "IntegerValues",
    "LocaleValues",
    "ActionsGuarded",
)
NAME_LENGTH = 100
DAY = 86400


@dataclass(frozen=True)
class TemplateDraft:
    """The question template a copy needs, as it would be saved."""

    name: str
    kind: str
    content: str
    frame_height: int
    layout_id: str = ""
    layout_parameter_names: tuple[str, ...] = ()

    @property
    def kind_label(self) -> str:
        return str(TemplateKind(self.kind).label) if self.kind in TemplateKind.values else self.kind


@dataclass
class CopiedStudy:
    """A new batch's starting point: `initial` values of the publish form and of its
    notifications section, the template and preset found for it, and what is still missing."""

    source: str
    initial: dict[str, Any]
    notification_initial: dict[str, Any]
    template: QuestionTemplate | None
    template_draft: TemplateDraft | None
    requirements: list[dict[str, Any]]
    preset: RequirementPreset | None
    review_policies: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Where the Copy button posts: the batch copied, else the HIT type.
    batch_pk: int | None = None
    hit_type_id: str = ""

    @property
    def needs_template(self) -> bool:
        return self.template is None and self.template_draft is not None

    @property
    def needs_preset(self) -> bool:
        return bool(self.requirements) and self.preset is None

    @property
    def ready(self) -> bool:
        """Nothing left to create: the form holds everything the source had."""
        return not self.needs_template and not self.needs_preset


def _literal(text: str) -> str:
    """Text from a published question as a template: each `${` is written `$${`, so it stays a
    literal (a published question has no variables left; a script's own `${` must survive)."""
    return text.replace("${", "$${")


def _matching_template(account: RequesterAccount, draft: TemplateDraft) -> QuestionTemplate | None:
    query = Q(account=account, kind=draft.kind, frame_height=draft.frame_height)
    if draft.kind == TemplateKind.LAYOUT:
        query &= Q(layout_id=draft.layout_id)
        found = [
            t
            for t in QuestionTemplate.objects.filter(query)
            if list(t.layout_parameter_names) == list(draft.layout_parameter_names)
        ]
        return found[0] if found else None
    return QuestionTemplate.objects.filter(query, content=draft.content).order_by("pk").first()


def _matching_preset(
    account: RequesterAccount, requirements: list[dict[str, Any]]
) -> RequirementPreset | None:
    for preset in RequirementPreset.objects.filter(account=account).order_by("pk"):
        if list(preset.requirements) == requirements:
            return preset
    return None


def _free_name(
    model: type[QuestionTemplate] | type[RequirementPreset], account: Any, base: str
) -> str:
    """`base`, or `base 2`, `base 3`... : the first name the account does not use yet."""
    taken = set(model.objects.filter(account=account).values_list("name", flat=True))
    name, number = base[:NAME_LENGTH], 1
    while name in taken:
        number += 1
        suffix = f" {number}"
        name = base[: NAME_LENGTH - len(suffix)] + suffix
    return name


def _copy_name(title: str, suffix: str) -> str:
    return title.strip()[: NAME_LENGTH - len(suffix)] + suffix


def _split_requirements(
    account: RequesterAccount, requirements: list[dict[str, Any]], *, drop: set[str]
) -> tuple[list[dict[str, Any]], bool, list[int]]:
    """The copied requirements without the lab's exclusions, and those exclusions as the form's
    choices: (requirements, exclude_soft_blocked, study group pks)."""
    kept, soft_block, groups = [], False, []
    for item in requirements:
        if item.get("QualificationTypeId") in drop:
            continue
        row = row_for(account, item)
        if row.kind == SOFT_BLOCK:
            soft_block = True
        elif row.kind.startswith(GROUP_PREFIX):
            groups.append(int(row.kind.removeprefix(GROUP_PREFIX)))
        else:
            kept.append({key: item[key] for key in _REQUIREMENT_KEYS if item.get(key) is not None})
    return kept, soft_block, groups


def _notification_initial(
    account: RequesterAccount, transport: str, event_types: list[str], notes: list[str]
) -> dict[str, Any]:
    offered = {"SQS": account.sqs_queue_url, "SNS": account.sns_topic_arn}
    if transport and not offered.get(transport):
        notes.append(
            f"The original sent events to the account's {transport}, which the account no longer "
            "has: the copy sends none unless you choose a destination."
        )
        transport = ""
    events = [name for name in ALL_EVENT_TYPES if name in event_types]
    return {"transport": transport, "event_types": events or list(DEFAULT_EVENT_TYPES)}


def _finish(copy: CopiedStudy, account: RequesterAccount) -> CopiedStudy:
    if copy.template is None and copy.template_draft is not None:
        copy.template = _matching_template(account, copy.template_draft)
    if copy.requirements and copy.preset is None:
        copy.preset = _matching_preset(account, copy.requirements)
    problems = check_requirements(copy.requirements)
    if problems:
        copy.notes.append("The copied requirements cannot be kept: " + " ".join(problems))
        copy.requirements = []
    copy.initial["template"] = copy.template.pk if copy.template else None
    copy.initial["preset"] = copy.preset.pk if copy.preset else None
    # A value the source lacks is left to the form's default rather than prefilled empty.
    copy.initial = {key: value for key, value in copy.initial.items() if value is not None}
    return copy


def copy_of_batch(batch: PublishBatch) -> CopiedStudy:
    """The publish form as `batch` was asked for (its template if it still exists, else one
    made from its snapshot)."""
    account = batch.account
    s = batch.hit_settings
    drop = {str(s.get(EXCLUSION_KEY))} if s.get(EXCLUSION_KEY) else set()
    requirements, soft_block, groups = _split_requirements(account, batch.requirements, drop=drop)
    notes: list[str] = []
    notification = batch.notification or {}
    template = (
        batch.template if batch.template and batch.template.account_id == account.pk else None
    )
    draft = None
    if template is None:
        names: list[str] = []
        if batch.template_kind == TemplateKind.LAYOUT:
            first = batch.hit_requests.order_by("row_number", "part").first()
            names = list(first.inputs) if first else []
        draft = TemplateDraft(
            name=_copy_name(batch.label, " (copy)"),
            kind=batch.template_kind,
            content=batch.template_content,
            frame_height=batch.frame_height,
            layout_id=batch.layout_id,
            layout_parameter_names=tuple(names),
        )
    copy = CopiedStudy(
        source=f"batch {batch.label}",
        initial={
            "label": _copy_name(batch.label, " (copy)"),
            "title": s.get("title", ""),
            "description": s.get("description", ""),
            "keywords": s.get("keywords", ""),
            "reward": s.get("reward", ""),
            "max_assignments": s.get("max_assignments", 1),
            "assignment_duration_seconds": s.get("assignment_duration_seconds"),
            "lifetime_seconds": s.get("lifetime_seconds"),
            "auto_approval_delay_seconds": s.get("auto_approval_delay_seconds"),
            "micro_batching": batch.micro_batching,
            "exclude_soft_blocked": soft_block,
            "study_groups": groups,
        },
        notification_initial=_notification_initial(
            account,
            str(notification.get("transport") or ""),
            list(notification.get("event_types") or []),
            notes,
        ),
        template=template,
        template_draft=draft,
        requirements=requirements,
        preset=None,
        review_policies=dict(batch.review_policies or {}),
        notes=notes,
        batch_pk=batch.pk,
    )
    return _finish(copy, account)


def _template_from_hit(hit: HIT | None, title: str) -> TemplateDraft | None:
    """A template that makes `hit`'s question again: HTMLQuestion → HTML, ExternalQuestion →
    external URL, QuestionForm → its XML, a layout → its HITLayoutId and parameter names."""
    if hit is None:
        return None
    kind = answers.question_kind(hit.question, hit.hit_layout_id)
    name = _copy_name(title, " (copy)")
    height = answers.frame_height(hit.question)
    frame_height = 600 if height is None else height
    if kind == "HTMLQuestion":
        content = answers.html_content(hit.question) or ""
        return TemplateDraft(name, TemplateKind.HTML, _literal(content), frame_height)
    if kind == "ExternalQuestion":
        url = answers.external_url(hit.question) or ""
        return TemplateDraft(name, TemplateKind.EXTERNAL, _literal(url), frame_height)
    if kind == "QuestionForm":
        return TemplateDraft(name, TemplateKind.QUESTION_FORM, _literal(hit.question), 600)
    if kind == "HITLayout":
        return TemplateDraft(
            name,
            TemplateKind.LAYOUT,
            "",
            600,
            layout_id=hit.hit_layout_id,
            layout_parameter_names=tuple(hit.layout_parameters or {}),
        )
    return None


def copy_of_hit_type(hit_type: HITType) -> CopiedStudy:
    """The publish form as the HIT type was published: from its latest dashboard batch when
    there is one (it knows more: lifetime, micro-batching, the template), else from the mirror's
    HIT type and its latest HIT (the Question made into a template)."""
    account = hit_type.account
    batch = (
        PublishBatch.objects.filter(account=account, hit_type_id=hit_type.hit_type_id)
        .select_related("account", "template")
        .first()
    )
    if batch is not None:
        return copy_of_batch(batch)
    hit = (
        HIT.objects.filter(hit_type=hit_type)
        .exclude(question="", hit_layout_id="")
        .order_by("-created_at_mturk", "-id")
        .first()
    )
    title = hit_type.title or hit_type.hit_type_id
    notes: list[str] = []
    draft = _template_from_hit(hit, title)
    if draft is None:
        notes.append(
            "No HIT of this study has a question the dashboard can copy (none synced yet, or of "
            "an unknown kind): choose a template."
        )
    requirements, soft_block, groups = _split_requirements(
        account, list(hit_type.qualification_requirements), drop=set()
    )
    lifetime = None
    if hit is not None and hit.expires_at and hit.created_at_mturk:
        seconds = int((hit.expires_at - hit.created_at_mturk) / timedelta(seconds=1))
        lifetime = min(max(seconds, 30), 365 * DAY)
    copy = CopiedStudy(
        source=f"study {title}",
        initial={
            "label": _copy_name(title, " (copy)"),
            "title": hit_type.title,
            "description": hit_type.description,
            "keywords": hit_type.keywords,
            "reward": str(hit_type.reward),
            "max_assignments": hit.max_assignments if hit is not None else 1,
            "assignment_duration_seconds": hit_type.assignment_duration_seconds,
            "lifetime_seconds": lifetime,
            "auto_approval_delay_seconds": hit_type.auto_approval_delay_seconds,
            "micro_batching": False,
            "exclude_soft_blocked": soft_block,
            "study_groups": groups,
        },
        notification_initial=_notification_initial(
            account,
            hit_type.notification_transport if hit_type.notification_active else "",
            list(hit_type.notification_event_types or []),
            notes,
        ),
        template=None,
        template_draft=draft,
        requirements=requirements,
        preset=None,
        notes=notes,
        hit_type_id=hit_type.hit_type_id,
    )
    return _finish(copy, account)


def make_copy_ready(*, copy: CopiedStudy, account: RequesterAccount, user: Any) -> CopiedStudy:
    """Create what the copy lacks: its template (QuestionProblem if MTurk would refuse it) and a
    preset "<title> (copied)" with its requirements. Idempotent: what exists is found again."""
    draft = copy.template_draft
    if copy.needs_template and draft is not None:
        copy.template = save_template(
            account=account,
            user=user,
            name=_free_name(QuestionTemplate, account, draft.name),
            kind=draft.kind,
            content=draft.content,
            frame_height=draft.frame_height,
            layout_id=draft.layout_id,
            layout_parameter_names=list(draft.layout_parameter_names),
        )
    if copy.needs_preset:
        title = str(copy.initial.get("title") or copy.source)
        copy.preset = RequirementPreset.objects.create(
            account=account,
            name=_free_name(RequirementPreset, account, _copy_name(title, " (copied)")),
            requirements=copy.requirements,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
    return _finish(copy, account)

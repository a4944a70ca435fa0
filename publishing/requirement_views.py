"""Requirement presets: the list (everyone on the account), the builder and deletion (lab admins,
who publish)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.enums import Action
from dashboard.http import DashboardRequest
from dashboard.permissions import account_for_user
from publishing import requirements
from publishing.models import RequirementPreset
from publishing.requirement_forms import PresetForm, initial_rows, requirement_formset


@require_GET
@login_required
def preset_list(request: DashboardRequest, slug: str) -> HttpResponse:
    account = account_for_user(request, slug)
    presets = [
        (preset, [requirements.describe(item) for item in preset.requirements])
        for preset in requirements.presets_for(account)
    ]
    return render(
        request,
        "publishing/preset_list.html",
        {
            "account": account,
            "presets": presets,
            "can_edit": Action.PUBLISH in request.account_actions,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def preset_edit(request: DashboardRequest, slug: str, pk: int | None = None) -> HttpResponse:
    """Create (no pk) or edit a preset. "Add a requirement" posts the form to get one more row
    back; nothing is saved until "Save"."""
    account = account_for_user(request, slug, Action.PUBLISH)
    preset = get_object_or_404(RequirementPreset, account=account, pk=pk) if pk else None
    status = 200
    if request.method == "POST":
        adding = "add" in request.POST
        form = PresetForm(request.POST)
        rows = requirement_formset(account, data=request.POST, add_row=adding)
        if not adding:
            if form.is_valid() and rows.is_valid():
                try:
                    requirements.save_preset(
                        account=account,
                        preset=preset,
                        name=form.cleaned_data["name"],
                        rows=rows.rows(),
                        user=request.user,
                    )
                except requirements.PresetProblem as exc:
                    for problem in exc.problems:
                        form.add_error(None, problem)
                else:
                    flash.success(request, "Preset saved.")
                    return redirect("preset-list", slug=account.slug)
            status = 400
    else:
        form = PresetForm(initial={"name": preset.name} if preset else None)
        initial = (
            initial_rows([requirements.row_for(account, item) for item in preset.requirements])
            if preset
            else None
        )
        rows = requirement_formset(account, initial=initial)
    return render(
        request,
        "publishing/preset_form.html",
        {"account": account, "form": form, "rows": rows, "preset": preset},
        status=status,
    )


@require_POST
@login_required
def preset_delete(request: DashboardRequest, slug: str, pk: int) -> HttpResponse:
    account = account_for_user(request, slug, Action.PUBLISH)
    preset = get_object_or_404(RequirementPreset, account=account, pk=pk)
    requirements.delete_preset(account=account, preset=preset)
    flash.success(request, f"Preset “{preset.name}” deleted.")
    return redirect("preset-list", slug=account.slug)

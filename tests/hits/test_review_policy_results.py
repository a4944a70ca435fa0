"""Review-policy results (ListReviewPolicyResultsForHIT) read by the reviewable sync for HITs
published with policies, and shown on the HIT page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hits.models import HIT
from hits.sync import sync_full, sync_reviewable
from mturk.tokens import request_token
from tests.hits.test_sync import HTML_QUESTION, work

pytestmark = pytest.mark.django_db

PLURALITY = {
    "PolicyName": "SimplePlurality/2011-09-01",
    "Parameters": [
        {"Key": "QuestionIds", "Values": ["cat"]},
        {"Key": "QuestionAgreementThreshold", "Values": ["50"]},
    ],
}


def test_results_of_a_hit_with_policies_appear_on_the_hit_page(
    emulator_account, account_gateway, fresh_emulator, staff_client
):
    def create(n: int, policy):
        return account_gateway.create_hit(
            title="Is this a cat?",
            description="Say whether the picture shows a cat.",
            reward="0.25",
            assignment_duration_seconds=600,
            lifetime_seconds=86400,
            max_assignments=2,
            question=HTML_QUESTION,
            hit_review_policy=policy,
            token=request_token("test-hit", f"policy-{n}"),
        ).hit.hit_id

    with_policy, without = create(1, PLURALITY), create(2, None)
    sync_full(account=emulator_account, gateway=account_gateway)
    # The publisher marks the HITs it created with policies (publishing does this).
    HIT.objects.filter(hit_id=with_policy).update(review_policy_results={})
    for hit_id in (with_policy, without):
        work(fresh_emulator.control, hit_id, "AWORKERPOL0001", {"cat": "yes"})
        work(fresh_emulator.control, hit_id, "AWORKERPOL0002", {"cat": "yes"})

    sync_reviewable(account=emulator_account, gateway=account_gateway)

    results = HIT.objects.get(hit_id=with_policy).review_policy_results
    assert results["policies"] == ["HIT: SimplePlurality/2011-09-01"]
    assert results["results"], results
    assert HIT.objects.get(hit_id=without).review_policy_results is None
    page = staff_client.get(reverse("hit-detail", args=[emulator_account.slug, with_policy]))
    assert "Review policy results" in page.content.decode()
    assert "SimplePlurality/2011-09-01" in page.content.decode()

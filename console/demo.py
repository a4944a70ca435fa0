"""The demo study that `seed_demo` publishes on the emulator account, so a newcomer sees the crowd's
answers arrive within a minute of `make run`: 30 HITs of an HTMLQuestion with a radio group, a
checkbox and a text box, wired to our SNS webhook.

It runs as a job in the worker (the emulator and the web server start alongside it), and it is
idempotent: HITs already published (recognised by their annotation) are not published again.
Every call that changes MTurk state is audited, as the dashboard's own are, with the job (or the
user who started it) as the actor.
"""

from __future__ import annotations

import json
import time
import urllib.request
from functools import partial
from typing import Any

from django.conf import settings
from django.urls import reverse

from dashboard.jobs import JobFailed, Progress
from dashboard.models import Job, RequesterAccount
from dashboard.mturk_access import account_gateway
from dashboard.services import audited_mturk_call
from mirror.notification_setup import wire_emulator_sns
from mturk.batches import annotation_for
from mturk.errors import MTurkError
from mturk.fetch import fetch
from mturk.notifications import DEFAULT_EVENT_TYPES
from mturk.tokens import request_token
from people.services.blocks import exclusion_requirements

DEMO_HITS = 30
DEMO_BATCH = "Demo batch 1"
DEMO_REWARD = "0.05"
DEMO_ASSIGNMENTS = 3
DEMO_LIFETIME_SECONDS = 7 * 86400
ANIMALS = ["cat", "dog", "rabbit", "parrot", "hamster"]
QUESTION_TEMPLATE = """<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd">
<HTMLContent><![CDATA[<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Which animal is this?</title></head>
<body>
<form name="mturk_form" method="post" id="mturk_form" action="https://www.mturk.com/mturk/externalSubmit">
<input type="hidden" name="assignmentId" id="assignmentId" value="">
<h2>Photo {number}: which animal is in the picture?</h2>
<p><em>(Picture {number} of the demo set.)</em></p>
<fieldset><legend>Animal</legend>
{radios}
</fieldset>
<p><label><input type="checkbox" name="blurry" value="yes"> The picture is blurry</label></p>
<p><label>Anything else we should know?<br><textarea name="comment" rows="3" cols="60"></textarea></label></p>
<p><input type="submit" id="submitButton" value="Submit"></p>
</form>
</body></html>]]></HTMLContent>
<FrameHeight>600</FrameHeight>
</HTMLQuestion>"""


def demo_question(number: int) -> str:
    radios = "\n".join(
        f'<label><input type="radio" name="animal" value="{animal}" required> {animal.title()}</label><br>'
        for animal in ANIMALS
    )
    return QUESTION_TEMPLATE.format(number=number, radios=radios)


def _wait_until(check: Any, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            check()
            return
        except (MTurkError, OSError) as exc:
            if time.monotonic() > deadline:
                raise JobFailed(f"{what} did not answer within {seconds:.0f} s: {exc}") from None
            time.sleep(1)


def _emulator_post(account: RequesterAccount, path: str, body: dict[str, Any]) -> None:
    # Through the bounded fetch, like every call the server makes to an account's endpoint.
    fetch(
        account.effective_endpoint_url.rstrip("/") + "/_emulator/" + path,
        method="POST",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        timeout=10,
        allow_query=False,
    )


def publish_demo_study(job: Job, progress: Progress) -> dict[str, Any]:
    account = job.account
    # seed_demo starts the job without a user: the job itself is then the actor.
    audited = partial(
        audited_mturk_call,
        account=account,
        actor=job.created_by,
        actor_name="" if job.created_by else f"job:{job.kind}",
    )
    with account_gateway(account) as gateway:
        progress.note("Waiting for the emulator")
        _wait_until(gateway.get_account_balance, seconds=120, what="The emulator")
        webhook_base = job.parameters.get("webhook_base_url") or settings.DEMO_WEBHOOK_BASE_URL
        webhook_url = webhook_base.rstrip("/") + reverse(
            "sns-webhook", kwargs={"slug": account.slug}
        )
        if job.parameters.get("wait_for_web", True):
            progress.note("Waiting for the web server")
            _wait_until(
                lambda: urllib.request.urlopen(
                    webhook_base.rstrip("/") + "/healthz", timeout=5
                ).close(),
                seconds=120,
                what="The web server",
            )
        wire_emulator_sns(account=account, webhook_url=webhook_url, actor=job.created_by)
        account.refresh_from_db()

        title = "Demo study: which animal is in the picture?"
        with audited(
            action="hit_type.create", parameters={"title": title, "reward": DEMO_REWARD}
        ) as call:
            hit_type_id = gateway.create_hit_type(
                title=title,
                description="Look at a photo, say which animal it shows, and whether it is blurry.",
                reward=DEMO_REWARD,
                assignment_duration_seconds=600,
                auto_approval_delay_seconds=3 * 86400,
                keywords="demo, image, animals",
                # Workers the lab excluded (soft blocks, study groups) do not see the study.
                qualification_requirements=exclusion_requirements(account) or None,
            )
            call.target_ids["hit_type"] = hit_type_id
        with audited(
            action="notifications.configure",
            target_ids={"hit_type": hit_type_id},
            parameters={
                "transport": "SNS",
                "destination": account.sns_topic_arn,
                "event_types": DEFAULT_EVENT_TYPES,
                "active": True,
            },
        ):
            gateway.update_notification_settings(
                hit_type_id=hit_type_id,
                destination=account.sns_topic_arn,
                transport="SNS",
                event_types=DEFAULT_EVENT_TYPES,
            )
        published = {hit.requester_annotation for page in gateway.iter_hit_pages() for hit in page}
        progress.set_total(DEMO_HITS)
        created = 0
        for number in range(1, DEMO_HITS + 1):
            # One batch, so the Batches page has something to show; `demo` makes each HIT's
            # annotation unique, which is how a rerun recognises what is already published.
            annotation = annotation_for(DEMO_BATCH, demo=number)
            if annotation not in published:
                with audited(
                    action="hit.create",
                    target_ids={"hit_type": hit_type_id},
                    parameters={
                        "annotation": annotation,
                        "max_assignments": DEMO_ASSIGNMENTS,
                        "lifetime_seconds": DEMO_LIFETIME_SECONDS,
                    },
                ) as call:
                    result = gateway.create_hit_with_hit_type(
                        hit_type_id=hit_type_id,
                        lifetime_seconds=DEMO_LIFETIME_SECONDS,
                        max_assignments=DEMO_ASSIGNMENTS,
                        question=demo_question(number),
                        requester_annotation=annotation,
                        token=request_token(f"demo-{account.pk}", number),
                    )
                    call.target_ids["hit"] = result.hit.hit_id
                    call.request_id = result.request_id or ""
                    # A repeated token found the HIT a crashed run had created: nothing new.
                    call.parameters["created"] = result.created
                _emulator_post(
                    account,
                    "ground-truth",
                    {
                        "HITId": result.hit.hit_id,
                        "GroundTruth": {"animal": ANIMALS[number % len(ANIMALS)]},
                    },
                )
                created += result.created
            progress.advance(message=f"HIT {number} of {DEMO_HITS}")
    return {"hit_type_id": hit_type_id, "created": created, "url": account.get_absolute_url()}

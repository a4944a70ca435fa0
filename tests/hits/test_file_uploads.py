"""A worker's uploaded file (FileUploadAnswer) offered as a download: GetFileUploadURL is asked at
click time through the gateway, and the browser is sent only to the URL MTurk returned, and only
when it is MTurk's file store (or, for an emulator account, the emulator itself)."""

from __future__ import annotations

import re
import urllib.request

import pytest
from django.urls import reverse

from dashboard.enums import Environment
from hits.file_uploads import allowed_download_url, uploaded_questions
from hits.models import Assignment
from hits.sync import sync_full
from mturk.tokens import request_token
from tests.hits.test_sync import HTML_QUESTION

pytestmark = pytest.mark.django_db

QF_NS = (
    "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd"
)
ANSWERS_NS = (
    "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/"
    "QuestionFormAnswers.xsd"
)
QUESTION = (
    f'<QuestionForm xmlns="{QF_NS}"><Question><QuestionIdentifier>photo</QuestionIdentifier>'
    "<IsRequired>true</IsRequired><QuestionContent><Text>Upload a photo of your desk</Text>"
    "</QuestionContent><AnswerSpecification><FileUploadAnswer><MaxFileSizeInBytes>1000000"
    "</MaxFileSizeInBytes><MinFileSizeInBytes>1</MinFileSizeInBytes></FileUploadAnswer>"
    "</AnswerSpecification></Question><Question><QuestionIdentifier>note</QuestionIdentifier>"
    "<IsRequired>false</IsRequired><QuestionContent><Text>Anything else?</Text></QuestionContent>"
    "<AnswerSpecification><FreeTextAnswer/></AnswerSpecification></Question></QuestionForm>"
)
ANSWER = (
    f'<QuestionFormAnswers xmlns="{ANSWERS_NS}"><Answer><QuestionIdentifier>photo'
    "</QuestionIdentifier><UploadedFileSizeInBytes>300</UploadedFileSizeInBytes>"
    "<UploadedFileKey>desk-photo-key-0001</UploadedFileKey></Answer><Answer>"
    "<QuestionIdentifier>note</QuestionIdentifier><FreeText>tidy</FreeText></Answer>"
    "</QuestionFormAnswers>"
)


@pytest.fixture
def uploaded(emulator_account, account_gateway, fresh_emulator) -> Assignment:
    """A HIT with a file upload question and one submitted assignment, mirrored."""
    result = account_gateway.create_hit(
        title="Photograph your desk",
        description="Upload a photo.",
        reward="0.50",
        assignment_duration_seconds=600,
        lifetime_seconds=86400,
        max_assignments=1,
        question=HTML_QUESTION,
        token=request_token("test-hit", "file-upload"),
    )
    # MTurk refuses FileUploadAnswer in new HITs since December 2017 (so does the emulator), but
    # still serves the files of older ones: the HIT is given its legacy question in place.
    emu = fresh_emulator.emulator
    with emu.transaction():
        emu.state.hits[result.hit.hit_id].question = QUESTION
    control = fresh_emulator.control
    control.add_worker(WorkerId="AUPLOADER00001")
    assignment = control.accept("AUPLOADER00001", result.hit.hit_id)
    control.submit(assignment["AssignmentId"], Answer=ANSWER)
    sync_full(account=emulator_account, gateway=account_gateway)
    return Assignment.objects.get(assignment_id=assignment["AssignmentId"])


def _download(client, account, assignment, question="photo"):
    return client.post(
        reverse("assignment-file-download", args=[account.slug, assignment.assignment_id]),
        {"question": question},
    )


def test_an_uploaded_file_is_offered_and_downloads_from_the_url_mturk_returned(
    emulator_account, uploaded, staff_client
):
    assert uploaded_questions(uploaded) == ["photo"]
    page = staff_client.get(
        reverse("hit-detail", args=[emulator_account.slug, uploaded.hit.hit_id])
    )
    assert reverse(
        "assignment-file-download", args=[emulator_account.slug, uploaded.assignment_id]
    ) in (page.content.decode())

    response = _download(staff_client, emulator_account, uploaded)

    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith(emulator_account.endpoint_url.rstrip("/") + "/_emulator/files/")
    # The URL MTurk returned serves the worker's file (the emulator's stand-in of 300 bytes).
    with urllib.request.urlopen(url, timeout=5) as served:  # noqa: S310 (the test emulator)
        body = served.read()
    assert len(body) == 300 and body.startswith(b"desk-photo-key-0001\n")


def test_an_answer_that_is_no_file_is_refused(emulator_account, uploaded, staff_client):
    for question in ("note", "missing", ""):
        response = _download(staff_client, emulator_account, uploaded, question)
        assert response.status_code == 400
        assert "not an uploaded file" in response.content.decode()


def test_the_browser_is_sent_only_to_mturks_file_store(account, emulator_account):
    account.environment = Environment.SANDBOX
    assert allowed_download_url(
        account, "https://mturk-file.s3.amazonaws.com/key?X-Amz-Signature=abc&Expires=1"
    )
    for url in (
        "http://mturk-file.s3.amazonaws.com/key",  # not https
        "https://amazonaws.com.evil.example/key",
        "https://evil.example/?.amazonaws.com",
        "https://user@s3.amazonaws.com/key",
        "https://s3.amazonaws.com:8443/key",
        "javascript:alert(1)",
    ):
        assert not allowed_download_url(account, url), url
    emulator = emulator_account.endpoint_url.rstrip("/")
    assert allowed_download_url(emulator_account, emulator + "/_emulator/files/A/photo?Expires=1")
    assert not allowed_download_url(emulator_account, "https://s3.amazonaws.com/elsewhere")
    assert not allowed_download_url(emulator_account, "http://127.0.0.2:1/_emulator/files/A/p")


def test_downloads_need_the_export_permission_and_membership(
    emulator_account, uploaded, anonymous_client, other_staff_client
):
    assert _download(anonymous_client, emulator_account, uploaded).status_code == 302  # to login
    assert _download(other_staff_client, emulator_account, uploaded).status_code == 404


def test_the_review_grid_and_the_side_by_side_offer_the_file_in_its_answer_cell(
    emulator_account, uploaded, staff_client
):
    action = reverse(
        "assignment-file-download", args=[emulator_account.slug, uploaded.assignment_id]
    )
    grid = staff_client.get(
        reverse("study-detail", args=[emulator_account.slug, uploaded.hit_type.hit_type_id])
    )
    hit_page = staff_client.get(
        reverse("hit-detail", args=[emulator_account.slug, uploaded.hit.hit_id])
    )
    for page in (grid, hit_page):
        assert page.status_code == 200
        cells = re.findall(r'<td class="answer[^"]*">(.*?)</td>', page.content.decode(), re.S)
        with_file = [cell for cell in cells if "desk-photo-key-0001" in cell]
        assert len(with_file) == 1
        # The cell's own form: a POST to the download view (the URL is asked for on click).
        assert f'action="{action}"' in with_file[0] and 'method="post"' in with_file[0]
        assert '<input type="hidden" name="question" value="photo">' in with_file[0]
        assert "csrfmiddlewaretoken" in with_file[0]
        # The free-text answer gets no download.
        (note,) = [cell for cell in cells if cell.strip().startswith("tidy")]
        assert "<form" not in note

    # What the grid's button posts downloads the file.
    response = _download(staff_client, emulator_account, uploaded)
    assert response.status_code == 302 and "/_emulator/files/" in response["Location"]

"""Personas shared by every view test: a lab admin and a staff member of `account`, a staff member
of another account, and an anonymous visitor."""

from __future__ import annotations

import pytest
from django.test import Client

from dashboard.enums import LAB_ADMIN_GROUP, RESEARCH_STAFF_GROUP
from tests.factories import RequesterAccountFactory, UserFactory


@pytest.fixture(autouse=True)
def _no_cached_analyses():
    """Each test starts with no study analysis cached in the process (hits.review)."""
    from hits.review import forget_analyses

    forget_analyses()


@pytest.fixture
def admin_user(db):
    return UserFactory(username="alice-admin", role=LAB_ADMIN_GROUP)


@pytest.fixture
def staff_user(db):
    return UserFactory(username="bob-staff", role=RESEARCH_STAFF_GROUP)


@pytest.fixture
def other_staff_user(db):
    return UserFactory(username="carol-elsewhere", role=RESEARCH_STAFF_GROUP)


@pytest.fixture
def account(db, admin_user, staff_user):
    return RequesterAccountFactory(slug="lab", name="Vision Lab", members=[admin_user, staff_user])


@pytest.fixture
def other_account(db, other_staff_user):
    return RequesterAccountFactory(slug="other-lab", name="Other Lab", members=[other_staff_user])


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def lab_admin_client(admin_user) -> Client:
    return _client_for(admin_user)


@pytest.fixture
def staff_client(staff_user) -> Client:
    return _client_for(staff_user)


@pytest.fixture
def other_staff_client(other_staff_user, other_account) -> Client:
    return _client_for(other_staff_user)


@pytest.fixture
def anonymous_client() -> Client:
    return Client()


@pytest.fixture
def personas(
    anonymous_client, staff_client, lab_admin_client, other_staff_client
) -> dict[str, Client]:
    return {
        "anonymous": anonymous_client,
        "staff": staff_client,
        "admin": lab_admin_client,
        "other_staff": other_staff_client,
    }


# --- The emulator (MTurk over real HTTP, in this process) ----------------------------------------


@pytest.fixture(scope="session")
def emulator():
    """One in-process emulator for the session (port 0, no crowd); tests reset it as they need."""
    from emulator.testing import run_emulator

    with run_emulator(crowd=0, speed=1.0, seed=7) as running:
        yield running


@pytest.fixture
def fresh_emulator(emulator):
    """The session emulator with empty state, no faults and a $10,000 balance."""
    emulator.control.reset(seed=7)
    return emulator


@pytest.fixture
def emulator_account(db, fresh_emulator, admin_user, staff_user):
    """A requester account pointing at the fresh emulator, with the usual members."""
    from dashboard.services import save_account

    account = RequesterAccountFactory.build(
        slug="emu",
        name="Emulator lab",
        endpoint_url=fresh_emulator.endpoint_url,
        aws_access_key_id="AKIAEMULATOR00000000",
    )
    save_account(account=account, secret_access_key="emulator-secret-key", actor_name="tests")
    account.members.add(admin_user, staff_user)
    return account


@pytest.fixture
def account_gateway(emulator_account):
    from dashboard.mturk_access import gateway_for

    return gateway_for(emulator_account)


@pytest.fixture
def eager_celery():
    """Run tasks inline where they are enqueued (for tests of what a task does, not of the broker)."""
    from dashboard.celery import app

    before = {key: app.conf.get(key) for key in ("task_always_eager", "task_eager_propagates")}
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield app
    app.conf.update(before)


@pytest.fixture(scope="session")
def sqs_server():
    """moto's SQS on 127.0.0.1 (a real HTTP server), for the emulator to deliver notifications to."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def sqs_queue_url(sqs_server, request):
    """A new, empty queue on moto's server."""
    import uuid

    import boto3  # noqa: TID251 - tests set up AWS fixtures directly

    client = boto3.client(
        "sqs",
        endpoint_url=sqs_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return client.create_queue(QueueName=f"mturk-{uuid.uuid4().hex[:12]}")["QueueUrl"]

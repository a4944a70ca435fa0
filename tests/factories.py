from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from dashboard.enums import LAB_ADMIN_GROUP, RESEARCH_STAFF_GROUP, Environment
from dashboard.models import RequesterAccount

TEST_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        """UserFactory(role="Research staff") puts the user in that group."""
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))
        if create:
            self.save()


class RequesterAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequesterAccount
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Lab account {n}")
    slug = factory.Sequence(lambda n: f"lab-{n}")
    environment = Environment.EMULATOR
    endpoint_url = "http://127.0.0.1:8765/"
    aws_access_key_id = "AKIAEMULATOR00000000"

    @factory.post_generation
    def members(self, create: bool, extracted: list | None, **kwargs: object) -> None:
        if create and extracted:
            self.members.add(*extracted)


def staff_user(**kwargs: object):
    return UserFactory(role=RESEARCH_STAFF_GROUP, **kwargs)


def admin_user(**kwargs: object):
    return UserFactory(role=LAB_ADMIN_GROUP, **kwargs)


class HITTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "hits.HITType"

    account = factory.SubFactory(RequesterAccountFactory)
    hit_type_id = factory.Sequence(lambda n: f"3HITTYPE{n:020d}")
    title = factory.Sequence(lambda n: f"Study {n}")
    reward = "0.25"


class HITFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "hits.HIT"

    hit_type = factory.SubFactory(HITTypeFactory)
    account = factory.SelfAttribute("hit_type.account")
    hit_id = factory.Sequence(lambda n: f"3HIT{n:026d}")
    title = factory.SelfAttribute("hit_type.title")
    reward = "0.25"
    status = "Reviewable"
    max_assignments = 3
    question_kind = "HTMLQuestion"
    question = (
        '<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd">'
        "<HTMLContent><![CDATA[<form><input name='answer'></form>]]></HTMLContent><FrameHeight>400</FrameHeight></HTMLQuestion>"
    )


class WorkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "workers.Worker"

    account = factory.SubFactory(RequesterAccountFactory)
    worker_id = factory.Sequence(lambda n: f"AWORKER{n:07d}")


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "hits.Assignment"

    hit = factory.SubFactory(HITFactory)
    account = factory.SelfAttribute("hit.account")
    hit_type = factory.SelfAttribute("hit.hit_type")
    worker = factory.SubFactory(WorkerFactory, account=factory.SelfAttribute("..account"))
    assignment_id = factory.Sequence(lambda n: f"3ASSIGNMENT{n:019d}")
    status = "Submitted"
    answers = factory.LazyFunction(lambda: {"answer": "yes"})
    submit_time = factory.LazyFunction(lambda: timezone.now())
    accept_time = factory.LazyAttribute(lambda o: o.submit_time - timedelta(seconds=95))
    work_time_seconds = 95

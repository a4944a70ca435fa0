from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

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

"""Settings from the environment: loud errors for bad values, a clean `check --deploy`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from dashboard.env import env_bool, env_int, env_list, env_str, validate_fernet_keys

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "u0IrsC2w7mJ6a0qQ4g8l4oN4zX3V0m9q8b7c6d5e4f0="


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run manage.py in a fresh interpreter with exactly the given settings variables."""
    clean = {key: value for key, value in os.environ.items() if key not in _SETTINGS_VARS}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


_SETTINGS_VARS = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CREDENTIALS_KEY",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "DJANGO_SETTINGS_MODULE",
    "CSRF_TRUSTED_ORIGINS",
}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("Yes", True),
        ("false", False),
        ("0", False),
        ("NO", False),
        ("", None),
    ],
)
def test_booleans_accept_the_documented_spellings(raw, expected):
    assert env_bool("FLAG", default=None, environ={"FLAG": raw}) is expected


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "y e s"])
def test_a_malformed_boolean_names_the_variable(raw):
    with pytest.raises(ImproperlyConfigured, match="FLAG must be true/false"):
        env_bool("FLAG", default=False, environ={"FLAG": raw})


def test_integers_and_lists():
    assert env_int("N", 5, environ={}) == 5
    assert env_int("N", 5, environ={"N": "12"}) == 12
    with pytest.raises(ImproperlyConfigured, match="N must be a whole number"):
        env_int("N", 5, environ={"N": "twelve"})
    with pytest.raises(ImproperlyConfigured, match="N must be at least 1"):
        env_int("N", 5, minimum=1, environ={"N": "0"})
    assert env_list("HOSTS", ["a"], environ={"HOSTS": " x.org, ,y.org "}) == ["x.org", "y.org"]


def test_file_variant_reads_docker_secrets(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")

    assert env_str("SECRET_KEY", environ={"SECRET_KEY_FILE": str(secret_file)}) == "from-a-file"
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY_FILE"):
        env_str("SECRET_KEY", environ={"SECRET_KEY_FILE": str(tmp_path / "missing")})


def test_fernet_keys_are_validated():
    assert validate_fernet_keys("CREDENTIALS_KEY", f"{GOOD_KEY}, {GOOD_KEY}") == [
        GOOD_KEY,
        GOOD_KEY,
    ]
    with pytest.raises(ImproperlyConfigured, match="CREDENTIALS_KEY key #2 is not a Fernet key"):
        validate_fernet_keys("CREDENTIALS_KEY", f"{GOOD_KEY},short")


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://user@host:notaport/db"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://user@host:5432/"}, "DATABASE_URL"),
        ({"CELERY_BROKER_URL": "localhost:6379"}, "CELERY_BROKER_URL"),
        ({"CELERY_BROKER_URL": "bogus://host"}, "CELERY_BROKER_URL"),
        ({"CELERY_BROKER_URL": "redis://host:99999/0"}, "CELERY_BROKER_URL"),
        ({"CREDENTIALS_KEY": "not-a-fernet-key"}, "CREDENTIALS_KEY"),
        ({"DEBUG": "perhaps"}, "DEBUG"),
    ],
)
def test_bad_settings_stop_start_up_naming_the_variable(env, variable):
    result = _manage("check", DEBUG=env.pop("DEBUG", "true"), **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


def test_production_requires_its_secrets():
    no_secret = _manage("check", DEBUG="false")
    no_credentials_key = _manage(
        "check", DEBUG="false", SECRET_KEY="x" * 60, ALLOWED_HOSTS="example.org"
    )
    no_hosts = _manage("check", DEBUG="false", SECRET_KEY="x" * 60, CREDENTIALS_KEY=GOOD_KEY)

    assert "SECRET_KEY is required" in no_secret.stderr
    assert "CREDENTIALS_KEY is required" in no_credentials_key.stderr
    assert "ALLOWED_HOSTS is required" in no_hosts.stderr


def _env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_env_example_lists_every_variable_the_settings_read():
    documented = set(_env_example())
    source = (ROOT / "dashboard" / "settings.py").read_text()
    import re

    read = set(re.findall(r'env_(?:str|bool|int|float|list|path)\(\s*"([A-Z_]+)"', source))
    read |= set(re.findall(r'_path_from_env\(\s*"([A-Z_]+)"', source))

    assert read - documented == set()


def _own_secrets() -> dict[str, str]:
    """Fresh secrets, as a deployment makes them by following .env.example's instructions."""
    import secrets

    from cryptography.fernet import Fernet

    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CREDENTIALS_KEY": Fernet.generate_key().decode(),
    }


def test_check_deploy_is_clean_with_the_documented_production_env(tmp_path):
    env = {**_env_example(), **_own_secrets(), "VAR_DIR": str(tmp_path)}

    result = _manage("check", "--deploy", "--fail-level", "WARNING", **env)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("variable", ["SECRET_KEY", "CREDENTIALS_KEY"])
def test_production_refuses_the_example_secrets(tmp_path, variable):
    example = _env_example()
    # Only `variable` keeps its example value; the other secret is the deployment's own.
    env = {**example, **_own_secrets(), variable: example[variable], "VAR_DIR": str(tmp_path)}

    refused = _manage("check", "--deploy", **env)

    assert refused.returncode != 0
    last_line = refused.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line and variable in last_line
    assert "example value" in last_line


def test_the_example_credentials_key_is_refused_as_an_old_key_too(tmp_path):
    """Listed after a new key (rotation) it still decrypts whatever it encrypted."""
    example = _env_example()
    own = _own_secrets()
    env = {
        **example,
        **own,
        "CREDENTIALS_KEY": f"{own['CREDENTIALS_KEY']},{example['CREDENTIALS_KEY']}",
        "VAR_DIR": str(tmp_path),
    }

    refused = _manage("check", **env)

    assert refused.returncode != 0
    assert "CREDENTIALS_KEY is still the example value" in refused.stderr


def test_development_may_run_on_the_example_secrets(tmp_path):
    example = _env_example()
    env = {
        "DEBUG": "true",
        "SECRET_KEY": example["SECRET_KEY"],
        "CREDENTIALS_KEY": example["CREDENTIALS_KEY"],
        "VAR_DIR": str(tmp_path),
    }

    assert _manage("check", **env).returncode == 0

"""Pages under load: 20–50 research staff browsing at once, against gunicorn with the production
settings, and per page p50 / p95 / p99 and errors (issue 15; figures in the README's Operations).

    .venv/bin/python bench/pages.py [--users 30] [--seconds 60] [--gunicorn-workers 3]
    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/dashboard_bench \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/pages.py

Like bench/review.py (whose study it builds): a throw-away database beside the configured one
holding one account with a study of --hits HITs × --assignments-per-hit submitted assignments by 60
workers, made with tests.settings in this process. Then gunicorn serves `dashboard.wsgi` with the
production settings (DEBUG off, static files collected and served by WhiteNoise; only HTTPS
redirects and secure cookies are off, since the load generator talks plain HTTP to 127.0.0.1), and
Locust (bench/locustfile.py, headless, --users for --seconds, aimed at 127.0.0.1 only) logs each
user in through the login form and browses the overview, the HIT list, the review grid, a HIT side
by side and a worker's page. Locust's own statistics give the percentiles (milliseconds, as it
rounds them). On a 2-core machine the load generator, gunicorn and PostgreSQL share the cores:
the figures are the whole machine's, not the server's alone. Progress goes to stderr; one JSON
line of figures is printed last on stdout.
"""

from __future__ import annotations

import argparse
import csv
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
os.environ.setdefault("LOG_LEVEL", "WARNING")
# One key for this process (which stores the account) and the server (which reads it).
os.environ["CREDENTIALS_KEY"] = Fernet.generate_key().decode()

from bench._common import log, setup_database, teardown_database  # noqa: E402
from bench.sync import free_port  # noqa: E402

PAGES = ("overview", "HIT list", "review grid", "side by side", "worker page")
PASSWORD = secrets.token_urlsafe(16)
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def server_database_url(test_name: str) -> str:
    """DATABASE_URL for the server: the configured one with the throw-away database's name."""
    configured = os.environ.get("DATABASE_URL", "")
    if not configured:
        return f"sqlite:///{test_name}"
    parts = urlsplit(configured)
    return urlunsplit(parts._replace(path=f"/{test_name}"))


def make_targets(hits: int, per_hit: int, path: Path) -> dict:
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.db import connection

    from bench.review import make_study
    from hits.models import HIT
    from workers.models import Worker

    account, hit_type, user = make_study(hits, per_hit)
    # The production hasher: the test settings' MD5 hasher is not in the server's list.
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    targets = {
        "username": user.get_username(),
        "slug": account.slug,
        "hit_type_id": hit_type.hit_type_id,
        "hit_ids": list(
            HIT.objects.filter(account=account).order_by("?").values_list("hit_id", flat=True)[:200]
        ),
        "worker_ids": list(
            Worker.objects.filter(account=account).values_list("worker_id", flat=True)
        ),
    }
    path.write_text(json.dumps(targets))
    return targets


def server_environment(database_url: str, tmpdir: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "DEBUG", "VAR_DIR")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="dashboard.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        STATIC_ROOT=os.path.join(tmpdir, "static"),
        VAR_DIR=os.path.join(tmpdir, "var"),
        # Plain HTTP on the loopback interface: no HTTPS redirect, cookies not limited to HTTPS.
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        LOG_LEVEL="WARNING",
    )
    return env


def wait_until_serving(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/accounts/login/", timeout=30) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer within a minute")


def log_in(url: str, username: str) -> str:
    """One session, logged in through the login form as a browser does; its session cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{url}/accounts/login/", timeout=60) as response:
        match = CSRF_INPUT.search(response.read().decode())
    if match is None:
        raise RuntimeError("the login form has no CSRF token")
    body = urlencode(
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": match.group(1)}
    ).encode()
    with opener.open(f"{url}/accounts/login/", data=body, timeout=60):
        pass
    for cookie in jar:
        if cookie.name == "sessionid":
            return str(cookie.value)
    raise RuntimeError("logging in gave no session: wrong password or a refused login")


def read_locust_stats(prefix: str) -> dict[str, dict]:
    """Locust's <prefix>_stats.csv, one row per page name (and 'Aggregated')."""
    pages = {}
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):

            def number(column: str, row: dict = row) -> float | None:
                value = row.get(column, "")
                return None if value in ("", "N/A") else float(value)

            pages[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50_ms": number("50%"),
                "p95_ms": number("95%"),
                "p99_ms": number("99%"),
                "requests_per_second": round(number("Requests/s") or 0, 1),
            }
    return pages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=30, help="concurrent users (20–50)")
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--hits", type=int, default=1000)
    parser.add_argument("--assignments-per-hit", type=int, default=3)
    args = parser.parse_args()
    if not 1 <= args.users <= 200 or not 1 <= args.seconds <= 600:
        parser.error("keep the load bounded: at most 200 users for at most 600 seconds")

    import django

    django.setup()
    from django.db import connection

    tmpdir = tempfile.mkdtemp(prefix="bench-pages-")
    old_name = None
    server = None
    try:
        old_name = setup_database(tmpdir, "benchpages")
        test_name = connection.settings_dict["NAME"]
        log(f"database: {connection.vendor} {test_name}")
        started = time.perf_counter()
        targets_path = Path(tmpdir) / "targets.json"
        make_targets(args.hits, args.assignments_per_hit, targets_path)
        log(
            f"study of {args.hits * args.assignments_per_hit} assignments in {time.perf_counter() - started:.1f}s"
        )
        connection.close()  # the server's connections only, during the run

        env = server_environment(server_database_url(test_name), tmpdir)
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "dashboard.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.gunicorn_workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        wait_until_serving(url, server)
        targets = json.loads(targets_path.read_text())
        targets["sessions"] = [log_in(url, targets["username"]) for _ in range(args.users)]
        targets_path.write_text(json.dumps(targets))
        log(
            f"gunicorn ({args.gunicorn_workers} workers) at {url}; {args.users} users for {args.seconds}s"
        )
        prefix = os.path.join(tmpdir, "locust")
        load = subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.spawn_rate),
                "--run-time",
                f"{args.seconds}s",
                "--host",
                url,
                "--csv",
                prefix,
                "--only-summary",
                "--stop-timeout",
                "10",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={**os.environ, "BENCH_PAGES_TARGETS": str(targets_path)},
            stdout=sys.stderr,
            stderr=sys.stderr,
        )
        stats = read_locust_stats(prefix)
        figures: dict = {
            "bench": "pages",
            "database": connection.vendor,
            "users": args.users,
            "seconds": args.seconds,
            "gunicorn_workers": args.gunicorn_workers,
            "assignments": args.hits * args.assignments_per_hit,
            "locust_exit": load.returncode,
            "load_average_1min": round(os.getloadavg()[0], 2),
        }
        total = stats.get("Aggregated", {})
        figures["requests"] = total.get("requests", 0)
        figures["requests_per_second"] = total.get("requests_per_second", 0)
        figures["errors"] = sum(page["failures"] for page in stats.values() if page is not total)
        for name in PAGES:
            page = stats.get(name, {})
            key = name.lower().replace(" ", "_")
            for figure in ("requests", "failures", "p50_ms", "p95_ms", "p99_ms"):
                figures[f"{key}_{figure}"] = page.get(figure)
        figures["worst_p95_ms"] = max(
            (figures[f"{name.lower().replace(' ', '_')}_p95_ms"] or 0) for name in PAGES
        )
        print(json.dumps(figures))
        return 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if old_name is not None:
            connection.close()
            teardown_database(old_name)
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

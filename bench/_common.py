"""What the benchmarks share: a throw-away database beside the configured one, a SQL statement
counter, and progress logging. Import it after putting the repository on sys.path."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def setup_database(tmpdir: str, label: str) -> str:
    """Point the test-database settings at a private name and create + migrate it.

    PostgreSQL: a new database `test_<name>_<label>_<pid>` on the configured server (the configured
    database itself is never written). SQLite: a file in `tmpdir`, so figures include real file I/O.
    """
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment(debug=False)
    test = settings.DATABASES["default"].setdefault("TEST", {})
    if connection.vendor == "sqlite":
        test["NAME"] = os.path.join(tmpdir, f"bench-{label}.sqlite3")
    else:
        test["NAME"] = f"test_{settings.DATABASES['default']['NAME']}_{label}_{os.getpid()}"
    connection.settings_dict["TEST"] = test
    return connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False, keepdb=False
    )


def teardown_database(old_name: str) -> None:
    from django.db import connection
    from django.test.utils import teardown_test_environment

    connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
    teardown_test_environment()


class QueryCounter:
    """Counts SQL statements by their first word (no text kept) and the time spent in them.
    Install with `connection.execute_wrapper(counter)`."""

    def __init__(self) -> None:
        self.kinds: Counter = Counter()
        self.seconds = 0.0

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    def __call__(self, execute, sql, params, many, context):
        word = sql.lstrip().split(None, 1)[0].upper() if sql else "?"
        self.kinds[word] += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started

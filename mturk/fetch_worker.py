"""A sync's fetch worker process: ``python -m mturk.fetch_worker`` (started by
mturk.assignment_fetch.ProcessFetcher, which talks to it over its stdin and stdout)."""

from __future__ import annotations

import os
import sys

from mturk.assignment_fetch import serve_requests


def main() -> None:
    # Answers go out on the original stdout only; anything else printing to stdout (a library's
    # warning) lands on stderr instead of corrupting them.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        serve_requests(sys.stdin.buffer, answers)
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the parent is gone or stopping: nothing left to answer


if __name__ == "__main__":
    main()

"""Runs `aws` commands for tests/emulator/test_aws_cli.py, inside the AWS CLI's own virtual
environment (var/awscli-venv: awscli pins a botocore older than ours, so it cannot share .venv).

Each line on stdin is a JSON list of arguments, exactly what would follow `aws` on a command line;
each answer is one JSON line: {"rc", "stdout", "stderr"}. Every command goes through the CLI's
own entry point (`awscli.clidriver.create_clidriver().main`, what the `aws` script calls), a fresh
driver each time, in this one process: the same client, without paying ~1 s of start-up per command.
The special line ["--list-mturk-subcommands"] answers with the CLI's own list of `aws mturk`
subcommands. Imports nothing from the project (it runs under another interpreter).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

from awscli.clidriver import create_clidriver


def mturk_subcommands() -> list[str]:
    driver = create_clidriver()
    service = driver._get_command_table()["mturk"]
    return sorted(service._get_command_table())


def run(argv: list[str]) -> dict[str, object]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = create_clidriver().main(argv)
        except SystemExit as exc:  # argparse errors exit
            rc = exc.code if isinstance(exc.code, int) else 2
    return {"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()}


def main() -> None:
    for line in sys.stdin:
        argv = json.loads(line)
        if argv == ["--list-mturk-subcommands"]:
            answer: dict[str, object] = {"rc": 0, "stdout": json.dumps(mturk_subcommands())}
        else:
            answer = run(argv)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

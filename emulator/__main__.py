"""python -m emulator serve --host 127.0.0.1 --port 8765 [--state FILE] [--crowd N] [--speed X]
[--clock-speed X] [--seed S]"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from emulator.server import EmulatorServer


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _not_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulator", description="Offline MTurk emulator"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the MTurk API and the control API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument(
        "--state", default=None, help="JSON file the state is kept in across restarts"
    )
    serve.add_argument("--crowd", type=int, default=0, help="number of simulated workers to start")
    serve.add_argument(
        "--speed",
        type=_positive,
        default=1.0,
        help="how many times faster than real people the simulated crowd works: accepting, "
        "thinking, submitting, returning (default 1). MTurk's own timers (assignment deadlines, "
        "auto-approval, expiry) and every timestamp the API returns stay on the real clock.",
    )
    serve.add_argument(
        "--clock-speed",
        type=_not_negative,
        default=1.0,
        help="emulated seconds per real second of the API's clock (default 1: the wall clock). "
        "Anything else runs MTurk's timers that much faster and puts every timestamp the API "
        "returns out of step with the clients' clocks: submissions appear to be in the future, "
        "and a client comparing a HIT's Expiration with its own clock gets the wrong answer. "
        "Tests move the clock with POST /_emulator/clock/advance instead.",
    )
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    server = EmulatorServer(
        host=args.host,
        port=args.port,
        seed=args.seed,
        speed=args.speed,
        clock_speed=args.clock_speed,
        crowd=args.crowd,
        state_path=args.state,
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() blocks until serve_forever returns, so call it from another thread.
        threading.Thread(target=server.httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logging.getLogger("emulator").info(
        "MTurk emulator on %s (control: %s/_emulator/), crowd at %gx, clock at %gx real time",
        server.base_url,
        server.base_url,
        args.speed,
        args.clock_speed,
    )
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

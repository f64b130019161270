"""`corridor broker`: the embedded Kafka-protocol broker on its own, until Ctrl-C or SIGTERM.

A worker, `corridor publish`, `corridor record` and kcat can then all be pointed at one broker
that outlives each of them (`--bootstrap-servers 127.0.0.1:PORT`), as they would be at a real
cluster; `corridor up` starts its broker this way. The broker is `streams.broker.EmbeddedBroker`
(memory storage: it forgets every topic when it stops). Once it answers, the command prints
one line, `corridor broker: bootstrap servers 127.0.0.1:PORT`, on stdout, and waits.
"""

import argparse
import signal
import threading
from pathlib import Path
from types import FrameType

from corridor.cli.checks import check_port_free
from corridor.cli.errors import UserError

READY_LINE = "corridor broker: bootstrap servers "
"""What the command prints once the broker answers, followed by its address."""


def add_command(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register `broker`."""
    broker = subparsers.add_parser(
        "broker", help="run the embedded Kafka-protocol broker until Ctrl-C"
    )
    broker.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)"
    )
    broker.add_argument("--log", type=Path, help="the broker's own log (default: a temporary file)")
    broker.set_defaults(handler=run_broker)


def run_broker(args: argparse.Namespace) -> int:
    """Start the broker, print its address, wait for SIGINT/SIGTERM, stop it."""
    from streams.broker import BrokerError, EmbeddedBroker

    port = check_port_free(args.port, "--port") if args.port else None
    stop = threading.Event()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    broker = EmbeddedBroker(port=port, log_path=args.log)
    try:
        broker.start()
    except BrokerError as error:
        raise UserError(f"the embedded broker did not start: {error}") from None
    try:
        print(f"{READY_LINE}{broker.bootstrap_servers}", flush=True)
        print(f"corridor broker: log {broker.log_path}; Ctrl-C stops it", flush=True)
        while not stop.wait(0.5):
            if broker.pid is None:
                break
    finally:
        broker.stop()
    return 0

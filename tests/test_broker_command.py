"""`corridor broker`: the embedded broker on its own, as a process other commands point at.

Started on a free port, it prints its address once it answers; a message produced there with
confluent-kafka is consumed back; SIGTERM stops it and its broker binary, and frees the port.
A port already taken is refused in one line before anything starts.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from streams.broker import free_port
from streams.broker_command import READY_LINE
from tests.broker_fixtures import port_free

pytestmark = [pytest.mark.broker]
ROOT = Path(__file__).resolve().parents[1]


def corridor(*argv: str, cwd: Path) -> "subprocess.Popen[str]":
    env = {key: value for key, value in os.environ.items() if not key.startswith("CORRIDOR_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen(
        [sys.executable, "-m", "corridor.cli", *argv],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_broker_serves_until_sigterm_then_frees_its_port(tmp_path: Path) -> None:
    port = free_port()
    broker = corridor("broker", "--port", str(port), "--log", str(tmp_path / "tansu.log"),
                      cwd=tmp_path)  # fmt: skip
    try:
        assert broker.stdout is not None
        first = broker.stdout.readline()
        assert first == f"{READY_LINE}127.0.0.1:{port}\n", (
            broker.stderr.read() if broker.stderr else ""
        )
        family = psutil.Process(broker.pid).children(recursive=True)
        assert any("tansu" in " ".join(p.cmdline()) for p in family)

        servers = f"127.0.0.1:{port}"
        topic = f"t-{uuid.uuid4().hex[:8]}"
        admin = AdminClient({"bootstrap.servers": servers})
        admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)
        producer = Producer({"bootstrap.servers": servers})
        producer.produce(topic, key=b"k", value=b"one message", partition=0)
        assert producer.flush(30) == 0
        consumer = Consumer({"bootstrap.servers": servers, "group.id": topic,
                             "enable.auto.commit": False})  # fmt: skip
        consumer.assign([TopicPartition(topic, 0, 0)])
        message = None
        deadline = time.monotonic() + 30
        while message is None and time.monotonic() < deadline:
            candidate = consumer.poll(1.0)
            if candidate is not None and candidate.error() is None:
                message = candidate
        consumer.close()
        assert message is not None
        assert message.value() == b"one message"

        broker.send_signal(signal.SIGTERM)
        assert broker.wait(timeout=30) == 0
        _gone, alive = psutil.wait_procs(family, timeout=10)
        assert alive == []
        assert port_free(port)
    finally:
        if broker.poll() is None:
            broker.kill()
        broker.wait()
        for stream in (broker.stdout, broker.stderr):
            if stream is not None:
                stream.close()


def test_a_taken_port_is_refused_in_one_line(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        broker = corridor("broker", "--port", str(port), cwd=tmp_path)
        out, err = broker.communicate(timeout=120)
    assert broker.returncode == 2
    assert out == ""
    assert err.splitlines() == [
        f"corridor broker: --port {port}: cannot listen there (address already in use); give "
        "another port, or stop what uses it"
    ]

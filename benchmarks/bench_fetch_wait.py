"""Produce-to-consume latency of one consumer hop on the embedded broker, by `fetch.wait.max.ms`.

At the end of a partition the broker holds a fetch until data arrives or this much time has
passed. librdkafka's default (500 ms) was most of the worker's produce-to-KPI latency, which
crosses two such hops (the worker's input, the KPI reader's). For each setting the script
produces `--messages` small messages at about 1,000/s (each carrying its send time) and
prints the p50 and p99 of send-to-receive time, in the same run.

    .venv/bin/python benchmarks/bench_fetch_wait.py
"""

import argparse
import statistics
import threading
import time

from confluent_kafka import TopicPartition

from streams.broker import EmbeddedBroker
from streams.clients import (
    CONSUMER_DEFAULTS,
    ensure_topics,
    make_admin,
    make_consumer,
    make_producer,
)
from streams.settings import KafkaSettings

SETTINGS_MS = (500, CONSUMER_DEFAULTS["fetch.wait.max.ms"], 10)


def hop_latencies(settings: KafkaSettings, topic: str, wait_ms: int, messages: int) -> list[float]:
    """Seconds from produce to consume of each message, one consumer with `wait_ms`."""
    consumer = make_consumer(settings, extra={"fetch.wait.max.ms": wait_ms})
    consumer.assign([TopicPartition(topic, part, 0) for part in range(settings.partitions)])
    producer = make_producer(settings, extra={"linger.ms": 1})
    latencies: list[float] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            for message in consumer.consume(1000, timeout=0.01):
                if message.error() is None:
                    latencies.append(time.perf_counter() - float(message.value() or b"0"))

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(1.0)  # the consumer is fetching at the end of the partition
    for _ in range(messages):
        producer.produce(topic, str(time.perf_counter()).encode())
        producer.poll(0)
        time.sleep(0.001)
    producer.flush(10)
    time.sleep(1.0)
    stop.set()
    reader.join()
    consumer.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    with EmbeddedBroker() as broker:
        settings = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, group_id="fetch")
        topics = [f"fetch-wait-{wait_ms}" for wait_ms in SETTINGS_MS]
        ensure_topics(make_admin(settings), settings, topics)
        for topic, wait_ms in zip(topics, SETTINGS_MS, strict=True):
            latencies = hop_latencies(settings, topic, wait_ms, args.messages)
            assert len(latencies) == args.messages, f"{len(latencies)} of {args.messages} read"
            cuts = statistics.quantiles(latencies, n=100)
            print(
                f"fetch.wait.max.ms {wait_ms:>4}: {len(latencies):>5} messages, "
                f"p50 {cuts[49] * 1000:6.1f} ms, p99 {cuts[98] * 1000:6.1f} ms"
            )


if __name__ == "__main__":
    main()

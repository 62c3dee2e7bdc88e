"""Vehicle telemetry component for AWS IoT Greengrass v2.

Publishes the vehicle's status every --interval seconds through Greengrass IPC (PublishToIoTCore) to
the stack's Basic Ingest topic ($aws/rules/<rule>/...), QoS 1. The topic template's {thingName} is
filled from AWS_IOT_THING_NAME, which the nucleus sets for every component. The component's access
control (in its recipe) allows exactly that Basic Ingest topic.

The message is built by pure functions (tested without Greengrass); the IPC client is imported only
when the component runs on a core device (awsiotsdk, installed by the recipe).
"""
import argparse
import json
import os
import signal
import sys
import time

MAX_TOPIC_LENGTH = 256  # AWS IoT's limit on a topic name, Basic Ingest prefix included


def topic_for(template, thing_name):
    """The Basic Ingest topic for this Thing; refuses a topic AWS IoT would reject."""
    if not thing_name or any(c in thing_name for c in "/+#"):
        raise ValueError("invalid thing name: %r" % (thing_name,))
    topic = template.replace("{thingName}", thing_name)
    if not topic.startswith("$aws/rules/") or "+" in topic or "#" in topic:
        raise ValueError("not a Basic Ingest topic: %r" % (topic,))
    if len(topic.encode("utf-8")) > MAX_TOPIC_LENGTH:
        raise ValueError("topic longer than %d bytes" % MAX_TOPIC_LENGTH)
    return topic


def read_status(source=None):
    """The vehicle's status. `source` is a JSON file a vehicle service keeps current (optional)."""
    status = {}
    if source and os.path.exists(source):
        with open(source, encoding="utf-8") as f:
            loaded = json.load(f)
        if isinstance(loaded, dict):
            status.update(loaded)
    return status


def build_message(thing_name, sequence, now, status):
    """One telemetry message: who, when (epoch ms), a sequence number, and the status fields."""
    return {
        "thingName": thing_name,
        "sequence": sequence,
        "timestamp": int(now * 1000),
        "status": status,
    }


def run(topic, interval, source, publish, sleep=time.sleep, clock=time.time, count=None):
    """Publishes until stopped (or `count` messages); `publish(topic, payload_bytes)` sends one."""
    thing = os.environ.get("AWS_IOT_THING_NAME", "")
    sequence = 0
    while count is None or sequence < count:
        sequence += 1
        message = build_message(thing, sequence, clock(), read_status(source))
        publish(topic, json.dumps(message, separators=(",", ":")).encode("utf-8"))
        if count is None or sequence < count:
            sleep(interval)
    return sequence


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", required=True, help="Basic Ingest topic template with {thingName}")
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--source", default=None, help="JSON file with the current vehicle status")
    args = parser.parse_args(argv)

    topic = topic_for(args.topic, os.environ.get("AWS_IOT_THING_NAME", ""))

    from awsiot.greengrasscoreipc.clientv2 import GreengrassCoreIPCClientV2  # on the core device only
    from awsiot.greengrasscoreipc.model import QOS

    client = GreengrassCoreIPCClientV2()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    def publish(t, payload):
        client.publish_to_iot_core(topic_name=t, qos=QOS.AT_LEAST_ONCE, payload=payload)

    try:
        run(topic, args.interval, args.source, publish)
    finally:
        client.close()


if __name__ == "__main__":
    main()

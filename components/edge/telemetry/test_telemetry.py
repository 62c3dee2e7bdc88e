import json
import os
import tempfile
import unittest

import telemetry


class TopicTest(unittest.TestCase):
    def test_fills_the_thing_name(self):
        self.assertEqual(
            telemetry.topic_for("$aws/rules/fms_kr_rule1/device/{thingName}/data", "test-thing-core-297468001"),
            "$aws/rules/fms_kr_rule1/device/test-thing-core-297468001/data",
        )

    def test_refuses_wildcards_and_bad_names(self):
        for template, thing in [("$aws/rules/r/{thingName}", "a/b"), ("$aws/rules/r/#", "t"), ("vehicles/{thingName}", "t"), ("$aws/rules/r/{thingName}", "")]:
            with self.assertRaises(ValueError):
                telemetry.topic_for(template, thing)

    def test_refuses_an_overlong_topic(self):
        with self.assertRaises(ValueError):
            telemetry.topic_for("$aws/rules/r/" + "x" * 300, "t")


class RunTest(unittest.TestCase):
    def test_publishes_count_messages_with_sequence_and_status(self):
        sent = []
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"speedKmh": 42, "batteryPct": 80}, f)
        os.environ["AWS_IOT_THING_NAME"] = "test-thing-core-1"
        try:
            n = telemetry.run("$aws/rules/r/t", 5, f.name, lambda t, p: sent.append((t, json.loads(p))), sleep=lambda s: None, clock=lambda: 1700000000.5, count=3)
        finally:
            os.unlink(f.name)
        self.assertEqual(n, 3)
        self.assertEqual([m["sequence"] for _, m in sent], [1, 2, 3])
        self.assertEqual(sent[0], ("$aws/rules/r/t", {"thingName": "test-thing-core-1", "sequence": 1, "timestamp": 1700000000500, "status": {"speedKmh": 42, "batteryPct": 80}}))

    def test_a_missing_status_file_sends_an_empty_status(self):
        self.assertEqual(telemetry.read_status("/nonexistent/status.json"), {})


if __name__ == "__main__":
    unittest.main()

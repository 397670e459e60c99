"""daphne for P3 with one probe: when the run consumer got each live event from the channel
layer and when it had written it to the socket (``run seq t_layer t_sent`` lines appended to
``$ATP_BENCH_P3_STAGES``). Only ``bench/p3_event_latency.py`` starts it; the served code is the
project's own."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atp_site.settings")


def _probe(path: str) -> None:
    import django

    django.setup()
    from runs.consumers import RunConsumer

    out = open(path, "a", buffering=1)  # noqa: SIM115 - open for the life of the process
    original = RunConsumer.run_event

    async def run_event(self, message):
        t_layer = time.time()
        await original(self, message)
        event = message.get("event") or {}
        out.write(f"{self.run_id} {event.get('seq')} {t_layer:.6f} {time.time():.6f}\n")

    RunConsumer.run_event = run_event

    trace_path = os.environ.get("ATP_BENCH_P3_TRACE")
    if trace_path:  # every send and live arrival per consumer, for lost-event hunts
        trace = open(trace_path, "a", buffering=1)  # noqa: SIM115
        original_send = RunConsumer._send
        probed_event = RunConsumer.run_event

        async def _send(self, event, text=None):
            trace.write(f"send {self.channel_name} {self.run_id} {event['seq']}\n")
            await original_send(self, event, text)

        async def run_event_traced(self, message):
            seq = message["event"]["seq"]
            trace.write(f"live {self.channel_name} {self.run_id} {seq} {self.last_sent}\n")
            await probed_event(self, message)

        RunConsumer._send = _send
        RunConsumer.run_event = run_event_traced


if __name__ == "__main__":
    if os.environ.get("ATP_BENCH_P3_STAGES"):
        _probe(os.environ["ATP_BENCH_P3_STAGES"])
    from daphne.cli import CommandLineInterface

    CommandLineInterface.entrypoint()

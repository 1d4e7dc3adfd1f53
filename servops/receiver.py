"""``servops receive``: a webhook receiver that answers 2xx only once events are in the lake.

Endpoints (POST, JSON body):

- ``/webhooks/stripe``: Stripe Events, signed with ``Stripe-Signature: t=<unix>,v1=<hex>``,
  HMAC-SHA256 over ``"<t>.<body>"`` with ``SERVOPS_STRIPE_WEBHOOK_SECRET``.
- ``/webhooks/zendesk``: Zendesk event webhooks, signed with
  ``X-Zendesk-Webhook-Signature`` = base64 HMAC-SHA256 over ``timestamp + body`` and
  ``X-Zendesk-Webhook-Signature-Timestamp``, with ``SERVOPS_ZENDESK_WEBHOOK_SECRET``.
- ``GET /health``.

Requests older or newer than the tolerance (default 300 s) are refused as replays; bodies
over the limit get 413. Accepted requests are group-committed: one thread takes every
request waiting, validates them together, writes one lake file per stream and date (each
fsynced) plus the quarantine and the ingestion-log row, then answers them all. A crash
before the answer means the sender retries; the retry has the same ``event_id`` and is
removed downstream (first received wins).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import itertools
import json
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from servops.ingest import Candidate, commit, now_utc, validate
from servops.lake import remove_stale_tmp

STRIPE_SECRET_ENV = "SERVOPS_STRIPE_WEBHOOK_SECRET"
ZENDESK_SECRET_ENV = "SERVOPS_ZENDESK_WEBHOOK_SECRET"
DEFAULT_PORT = 8787
DEFAULT_TOLERANCE_SECONDS = 300
DEFAULT_MAX_BODY_BYTES = 256 * 1024
CONNECTOR = "receiver"
_WARM_UP_EVENT = {
    "event_id": "warm-up",
    "event_type": "invoice.paid",
    "occurred_at": "2025-01-01T00:00:00Z",
    "source": "stripe",
    "invoice_id": "in_warm_up",
    "customer_id": "cus_warm_up",
    "amount_eur": "1.00",
}


class SignatureError(Exception):
    """A request whose signature or timestamp does not verify (answered with 400/401)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def stripe_signature(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value Stripe would send for ``body`` at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_stripe(secret: str, header: str | None, body: bytes, tolerance: float) -> None:
    """Check a ``Stripe-Signature`` header (any ``v1`` may match; ``t`` within tolerance)."""
    if not header:
        raise SignatureError(401, "missing Stripe-Signature header")
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    timestamps = [value for key, value in parts if key.strip() == "t"]
    signatures = [value.strip() for key, value in parts if key.strip() == "v1"]
    if not timestamps or not signatures or not timestamps[0].strip().isdigit():
        raise SignatureError(401, "Stripe-Signature needs t=<unix seconds> and v1=<hex>")
    timestamp = int(timestamps[0])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    if not any(hmac.compare_digest(expected.hexdigest(), given) for given in signatures):
        raise SignatureError(401, "Stripe-Signature does not match the body")
    if abs(time.time() - timestamp) > tolerance:
        raise SignatureError(400, f"Stripe-Signature timestamp is outside {tolerance:.0f} s")


def zendesk_signature(secret: str, body: bytes, timestamp: str) -> str:
    """The ``X-Zendesk-Webhook-Signature`` Zendesk would send for ``body`` at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_zendesk(
    secret: str, signature: str | None, timestamp: str | None, body: bytes, tolerance: float
) -> None:
    """Check Zendesk's signature headers; the timestamp (ISO 8601) must be within tolerance."""
    if not signature or not timestamp:
        raise SignatureError(
            401,
            "missing X-Zendesk-Webhook-Signature or X-Zendesk-Webhook-Signature-Timestamp",
        )
    expected = zendesk_signature(secret, body, timestamp)
    if not hmac.compare_digest(expected, signature.strip()):
        raise SignatureError(401, "X-Zendesk-Webhook-Signature does not match the body")
    try:
        sent = dt.datetime.fromisoformat(timestamp.strip())
    except ValueError:
        raise SignatureError(400, "X-Zendesk-Webhook-Signature-Timestamp is not ISO 8601") from None
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=dt.UTC)
    if abs((now_utc() - sent).total_seconds()) > tolerance:
        raise SignatureError(400, f"webhook timestamp is outside {tolerance:.0f} s")


@dataclass
class _Pending:
    candidates: list[Candidate]
    done: threading.Event = field(default_factory=threading.Event)
    result: dict | None = None
    error: str | None = None


class GroupCommitter:
    """Collects requests' candidates and lands them together, one batch per round."""

    def __init__(self, lake: Path, max_batch: int = 1000):
        self.lake = lake
        # A receiver killed mid-write (kill -9) left temporary files; a restart clears them.
        remove_stale_tmp(lake)
        # Validate one event before serving: Arrow's first conversion of Python datetimes
        # imports pandas (seconds without bytecode caches), which would stall the first batch.
        validate([Candidate(1, _WARM_UP_EVENT)])
        self.max_batch = max_batch
        self._queue: list[_Pending] = []
        self._ready = threading.Condition()
        self._stopping = False
        self._sequence = itertools.count(1)
        # Unique per process start, so a restarted receiver never reuses a batch name.
        self._prefix = f"{CONNECTOR}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        self.batches = 0
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def submit(self, candidates: list[Candidate]) -> _Pending:
        """Queue one request's candidates; wait on the returned ``done`` for the outcome."""
        pending = _Pending(candidates)
        with self._ready:
            self._queue.append(pending)
            self._ready.notify()
        return pending

    def stop(self) -> None:
        with self._ready:
            self._stopping = True
            self._ready.notify()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._stopping:
                    self._ready.wait()
                if not self._queue:
                    return
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            self._commit(batch)

    def _commit(self, batch: list[_Pending]) -> None:
        started = now_utc()
        numbered = [
            (index, Candidate(index, c.record, c.raw, c.error))
            for index, pending in enumerate(batch, start=1)
            for c in pending.candidates
        ]
        try:
            validated = validate(candidate for _, candidate in numbered)
            batch_id = f"{self._prefix}-{next(self._sequence):06d}"
            commit(
                self.lake,
                batch_id=batch_id,
                connector=CONNECTOR,
                source_file="webhook",
                validated=validated,
                started_at=started,
            )
        except Exception as error:  # a disk or lake failure: every sender must retry
            for pending in batch:
                pending.error = f"could not store the batch: {error}"
                pending.done.set()
            return
        self.batches += 1
        rejected: dict[int, list[str]] = {}
        for rejection in validated.rejections:
            rejected.setdefault(rejection.line, []).append(
                f"{rejection.reason}: {rejection.detail}"
            )
        for index, pending in enumerate(batch, start=1):
            reasons = rejected.get(index, [])
            pending.result = {
                "status": "stored",
                "batch_id": batch_id,
                "events": len(pending.candidates),
                "quarantined": len(reasons),
                "reasons": reasons,
            }
            pending.done.set()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _answer(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/health":
            self._answer(200, {"status": "ok", "batches": self.server.committer.batches})
        else:
            self._answer(404, {"error": f"no such path {self.path}"})

    def do_POST(self) -> None:
        settings = self.server.settings
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.isdigit():
            self.close_connection = True
            self._answer(411, {"error": "Content-Length is required"})
            return
        length = int(length_text)
        if length > settings.max_body_bytes:
            self.close_connection = True  # the body is not read, so the connection is spent
            self._answer(
                413, {"error": f"body of {length} bytes is over {settings.max_body_bytes}"}
            )
            return
        body = self.rfile.read(length)
        route = self.server.routes.get(self.path)
        if route is None:
            self._answer(404, {"error": f"no webhook at {self.path}"})
            return
        secret, verify, to_candidates = route
        if not secret:
            self._answer(503, {"error": f"{self.path} is not configured (no secret set)"})
            return
        try:
            verify(secret, self.headers, body, settings.tolerance_seconds)
        except SignatureError as error:
            self._answer(error.status, {"error": str(error)})
            return
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            self._answer(400, {"error": f"body is not JSON: {error}"})
            return
        pending = self.server.committer.submit(to_candidates(payload, 1))
        pending.done.wait()
        if pending.error:
            self._answer(503, {"error": pending.error})
        else:
            self._answer(200, pending.result or {})


@dataclass(frozen=True)
class Settings:
    """The receiver's configuration."""

    lake: Path
    stripe_secret: str | None
    zendesk_secret: str | None
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    verbose: bool = False

    @classmethod
    def from_env(cls, lake: Path, **overrides: object) -> Settings:
        return cls(
            lake=lake,
            stripe_secret=os.environ.get(STRIPE_SECRET_ENV) or None,
            zendesk_secret=os.environ.get(ZENDESK_SECRET_ENV) or None,
            **overrides,
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], settings: Settings):
        from connectors import stripe, zendesk

        super().__init__(address, _Handler)
        self.settings = settings
        self.verbose = settings.verbose
        self.committer = GroupCommitter(settings.lake)

        def stripe_verify(secret, headers, body, tolerance):
            verify_stripe(secret, headers.get("Stripe-Signature"), body, tolerance)

        def zendesk_verify(secret, headers, body, tolerance):
            verify_zendesk(
                secret,
                headers.get("X-Zendesk-Webhook-Signature"),
                headers.get("X-Zendesk-Webhook-Signature-Timestamp"),
                body,
                tolerance,
            )

        self.routes: dict[str, tuple[str | None, Callable, Callable]] = {
            "/webhooks/stripe": (settings.stripe_secret, stripe_verify, stripe.candidates_for),
            "/webhooks/zendesk": (
                settings.zendesk_secret,
                zendesk_verify,
                zendesk.webhook_candidates,
            ),
        }


def make_server(settings: Settings, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> _Server:
    """A receiver bound to ``host:port`` (port 0 picks a free one); call ``serve_forever``."""
    return _Server((host, port), settings)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
    """Run the receiver until interrupted; prints the address it listens on."""
    import signal

    server = make_server(settings, host, port)
    bound_host, bound_port = server.server_address[:2]
    enabled = [
        name
        for name, secret in (
            ("stripe", settings.stripe_secret),
            ("zendesk", settings.zendesk_secret),
        )
        if secret
    ]
    print(
        f"servops receive: listening on http://{bound_host}:{bound_port} "
        f"(webhooks: {', '.join(enabled) or 'none configured'}; lake {settings.lake})",
        flush=True,
    )

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.committer.stop()


# A bounded load generator for tests and the bench: a second process, on loopback. -------


def stripe_event(event_id: str, created: int, amount_cents: int = 4900) -> dict:
    """A minimal Stripe ``invoice.paid`` Event (EUR) for load tests."""
    return {
        "id": event_id,
        "object": "event",
        "type": "invoice.paid",
        "created": created,
        "data": {
            "object": {
                "id": f"in_{event_id}",
                "object": "invoice",
                "customer": "cus_load",
                "subscription": "sub_load",
                "currency": "eur",
                "amount_paid": amount_cents,
            }
        },
    }


def send_load(
    port: int, secret: str, count: int, run_id: str, threads: int = 8, deadline_s: float = 120
) -> dict:
    """POST ``count`` signed Stripe events; retry each until a 2xx. Returns counts and time."""
    next_index = itertools.count()
    lock = threading.Lock()
    totals = {"acked": 0, "retries": 0, "rejected": 0}
    stop_at = time.monotonic() + deadline_s

    def worker() -> None:
        connection = None
        while True:
            with lock:
                index = next(next_index)
            if index >= count:
                break
            body = json.dumps(stripe_event(f"evt_{run_id}_{index:07d}", int(time.time()))).encode()
            while time.monotonic() < stop_at:
                try:
                    if connection is None:
                        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    headers = {
                        "Content-Type": "application/json",
                        "Stripe-Signature": stripe_signature(secret, body, int(time.time())),
                    }
                    connection.request("POST", "/webhooks/stripe", body, headers)
                    response = connection.getresponse()
                    response.read()
                    if response.status == 200:
                        with lock:
                            totals["acked"] += 1
                        break
                    if 400 <= response.status < 500:
                        with lock:
                            totals["rejected"] += 1
                        break
                except (OSError, http.client.HTTPException):
                    if connection is not None:
                        connection.close()
                    connection = None
                with lock:
                    totals["retries"] += 1
                time.sleep(0.02 + random.random() * 0.05)
        if connection is not None:
            connection.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return {"sent": count, **totals, "seconds": time.perf_counter() - started}


if __name__ == "__main__":
    # python -m servops.receiver load PORT COUNT RUN_ID [THREADS]; secret from the environment.
    if len(sys.argv) >= 5 and sys.argv[1] == "load":
        result = send_load(
            int(sys.argv[2]),
            os.environ[STRIPE_SECRET_ENV],
            int(sys.argv[3]),
            sys.argv[4],
            threads=int(sys.argv[5]) if len(sys.argv) > 5 else 8,
        )
        print(json.dumps(result), flush=True)
    else:
        sys.exit("usage: python -m servops.receiver load PORT COUNT RUN_ID [THREADS]")

"""``servops ingest <connector> PATH...`` and ``servops receive``: the ways events get in."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
from pathlib import Path

from servops.errors import CommandError
from servops.paths import Home

# The defaults of servops.ingest and servops.receiver, repeated here so that building the
# parser does not import pyarrow (tests/ingest/test_receiver.py keeps them equal).
DEFAULT_MAX_RECORD_BYTES = 64 * 1024
DEFAULT_MAX_BODY_BYTES = 256 * 1024
DEFAULT_PORT = 8787
DEFAULT_TOLERANCE_SECONDS = 300


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        name, sep, header = pair.partition("=")
        if not sep or not name or not header:
            raise CommandError(f"--map {pair!r}: expected field=Header, e.g. score=Rating")
        mapping[name.strip()] = header.strip()
    return mapping


def cmd_ingest(args: argparse.Namespace, home: Home) -> None:
    import connectors
    from servops.ingest import UnreadableInput, ingest_file
    from servops.lake import remove_stale_tmp

    try:
        module = connectors.get(args.connector)
    except KeyError:
        raise CommandError(
            f"no connector {args.connector!r}; choose one of {', '.join(connectors.CONNECTORS)}"
        ) from None
    read = module.read
    options = ""
    if args.connector == "surveys":
        mapping = _mapping(args.map or [])
        read = functools.partial(module.read, mapping=mapping, survey_type=args.survey_type)
        options = f"{sorted(mapping.items())}|{args.survey_type}"
    elif args.map:
        raise CommandError("--map applies to the surveys connector only")
    # Runs killed mid-write (kill -9) left temporary files; clear the dead writers' ones.
    remove_stale_tmp(home.lake)
    failures = []
    for name in args.paths:
        path = Path(name)
        if not path.is_file():
            failures.append(f"{path}: no such file")
            continue
        try:
            summary = ingest_file(
                home.lake,
                args.connector,
                read,
                path,
                future_tolerance=dt.timedelta(minutes=args.future_tolerance_minutes),
                max_record_bytes=args.max_record_bytes,
                options=options,
                read_table=getattr(module, "read_table", None),
            )
        except UnreadableInput as error:
            failures.append(f"{error} (nothing of this file was ingested)")
            continue
        print(summary.line(), flush=True)
    if failures:
        raise CommandError("; ".join(failures))


def cmd_receive(args: argparse.Namespace, home: Home) -> None:
    from servops.receiver import Settings, serve

    settings = Settings.from_env(
        home.lake,
        tolerance_seconds=args.tolerance_seconds,
        max_body_bytes=args.max_body_bytes,
        verbose=args.verbose,
    )
    if not (settings.stripe_secret or settings.zendesk_secret):
        raise CommandError(
            "no webhook secret set: export SERVOPS_STRIPE_WEBHOOK_SECRET and/or "
            "SERVOPS_ZENDESK_WEBHOOK_SECRET"
        )
    try:
        serve(settings, host=args.host, port=args.port)
    except OSError as error:
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``ingest`` and ``receive`` to the servops command line."""
    from connectors import CONNECTORS

    ingest = commands.add_parser(
        "ingest",
        help="ingest files from an outside tool into the lake (see docs/ingestion.md)",
        description="Validate and land files in the lake; bad records go to lake/quarantine. "
        "Ingesting the same file again changes nothing.",
    )
    ingest.add_argument("connector", choices=CONNECTORS, help="the tool the files come from")
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="input files")
    ingest.add_argument(
        "--future-tolerance-minutes",
        type=float,
        default=5.0,
        help="accept occurred_at up to this far in the future (default 5)",
    )
    ingest.add_argument(
        "--max-record-bytes",
        type=int,
        default=DEFAULT_MAX_RECORD_BYTES,
        help=f"quarantine records larger than this (default {DEFAULT_MAX_RECORD_BYTES})",
    )
    ingest.add_argument(
        "--map",
        action="append",
        metavar="FIELD=HEADER",
        help="surveys: read FIELD (score, comment, contact_id, sent_at, ...) from column HEADER",
    )
    ingest.add_argument(
        "--survey-type",
        choices=["nps", "csat", "ces"],
        default="nps",
        help="surveys: the type when the file has no survey_type column (default nps)",
    )
    ingest.set_defaults(handler=cmd_ingest)

    receive = commands.add_parser(
        "receive",
        help="receive Stripe and Zendesk webhooks into the lake",
        description="An HTTP receiver: verifies signatures (secrets from "
        "SERVOPS_STRIPE_WEBHOOK_SECRET / SERVOPS_ZENDESK_WEBHOOK_SECRET) and answers 2xx only "
        "once the events are durably in the lake.",
    )
    receive.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    receive.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    receive.add_argument(
        "--tolerance-seconds",
        type=float,
        default=DEFAULT_TOLERANCE_SECONDS,
        help="refuse signatures older or newer than this, against replays (default 300)",
    )
    receive.add_argument(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        help=f"refuse bodies over this size with 413 (default {DEFAULT_MAX_BODY_BYTES})",
    )
    receive.add_argument("--verbose", action="store_true", help="log every request")
    receive.set_defaults(handler=cmd_receive)

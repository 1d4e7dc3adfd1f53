"""Stripe Event objects -> the billing stream.

Input: a JSON document holding one Event, a JSON array of Events, or a list object as
``GET /v1/events`` returns it (``{"object": "list", "data": [...]}``); or JSON Lines with one
Event per line. The webhook receiver maps pushed Events with ``map_event`` too.

MRR is computed from the subscription's items: ``price.unit_amount`` x ``quantity``, per
month (a yearly price counts /12, ``interval_count`` divides further), less a coupon's
``percent_off`` (or ``amount_off`` spread over the billing period). Amounts are cents in
Stripe and euros (decimal) in the lake; a currency other than EUR is quarantined, because
the contract holds euros and the connector has no exchange rates.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Iterator
from pathlib import Path

from connectors._common import load_json, utc_iso
from servops.ingest import (
    INVALID_JSON,
    NOT_AN_OBJECT,
    UNMAPPED_SOURCE_OBJECT,
    Candidate,
    UnreadableInput,
)

NAME = "stripe"
SOURCE = "stripe"
CENTS = decimal.Decimal(100)
MONTHS_PER_INTERVAL = {
    "month": decimal.Decimal(1),
    "year": decimal.Decimal(12),
    "week": decimal.Decimal(12) / decimal.Decimal(52),
    "day": decimal.Decimal(12) / decimal.Decimal(365),
}
BILLING_PERIODS = {"month": "monthly", "year": "annual", "week": "weekly", "day": "daily"}


class Unmapped(Exception):
    """A Stripe object the billing stream has no event for, or cannot be mapped."""


def _euros(cents: object) -> decimal.Decimal | None:
    if cents is None or isinstance(cents, bool) or not isinstance(cents, int):
        return None
    return (decimal.Decimal(cents) / CENTS).quantize(decimal.Decimal("0.01"))


def _check_currency(obj: dict) -> None:
    currency = obj.get("currency")
    if currency is not None and str(currency).lower() != "eur":
        raise Unmapped(f"currency {currency!r}: the contract holds euros; convert first")


def _items(subscription: dict) -> list[dict]:
    items = subscription.get("items")
    data = items.get("data") if isinstance(items, dict) else items
    return [item for item in data or [] if isinstance(item, dict)]


def _discount_pct(subscription: dict) -> float | None:
    discount = subscription.get("discount")
    coupon = discount.get("coupon") if isinstance(discount, dict) else None
    if isinstance(coupon, dict) and coupon.get("percent_off") is not None:
        return float(coupon["percent_off"])
    return None


def monthly_recurring_revenue(subscription: dict) -> decimal.Decimal | None:
    """The subscription's MRR in euros, from its items' prices, quantities and discount."""
    items = _items(subscription)
    if not items:
        return None
    total = decimal.Decimal(0)
    months = decimal.Decimal(1)
    for item in items:
        price = item.get("price") or item.get("plan") or {}
        _check_currency(price)
        recurring = price.get("recurring") or {}
        interval = recurring.get("interval") or price.get("interval") or "month"
        count = recurring.get("interval_count") or price.get("interval_count") or 1
        unit = price.get("unit_amount", price.get("amount"))
        if interval not in MONTHS_PER_INTERVAL or not isinstance(unit, int):
            raise Unmapped(f"price {price.get('id')!r} has no usable unit_amount/interval")
        months = MONTHS_PER_INTERVAL[interval] * decimal.Decimal(count)
        total += decimal.Decimal(unit) * decimal.Decimal(item.get("quantity") or 1) / months
    pct = _discount_pct(subscription)
    if pct is not None:
        total *= 1 - decimal.Decimal(str(pct)) / 100
    discount = subscription.get("discount")
    coupon = discount.get("coupon") if isinstance(discount, dict) else None
    if isinstance(coupon, dict) and isinstance(coupon.get("amount_off"), int):
        total -= decimal.Decimal(coupon["amount_off"]) / months
    return (max(total, decimal.Decimal(0)) / CENTS).quantize(decimal.Decimal("0.01"))


def _plan(subscription: dict) -> tuple[str | None, str | None]:
    items = _items(subscription)
    if not items:
        return None, None
    price = items[0].get("price") or items[0].get("plan") or {}
    recurring = price.get("recurring") or {}
    interval = recurring.get("interval") or price.get("interval")
    plan_id = price.get("lookup_key") or price.get("id")
    return plan_id, BILLING_PERIODS.get(interval)


def _period_end(subscription: dict) -> str | None:
    end = subscription.get("current_period_end")
    if end is None:  # newer API versions keep the period on the items
        ends = [item.get("current_period_end") for item in _items(subscription)]
        end = next((value for value in ends if value is not None), None)
    return utc_iso(end)


def map_event(event: dict) -> list[dict]:
    """Envelope records for one Stripe Event; raises ``Unmapped`` when there is none."""
    event_type = event.get("type")
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    obj = data.get("object") if isinstance(data.get("object"), dict) else None
    if not isinstance(event_type, str) or obj is None:
        raise Unmapped("not a Stripe Event (needs type and data.object)")
    base = {
        "event_id": f"stripe:{event.get('id')}" if event.get("id") else None,
        "occurred_at": utc_iso(event.get("created")),
        "source": SOURCE,
        "customer_id": obj.get("customer") if isinstance(obj.get("customer"), str) else None,
    }
    if event_type.startswith("customer.subscription."):
        plan_id, period = _plan(obj)
        mrr = monthly_recurring_revenue(obj)
        sub = {
            **base,
            "subscription_id": obj.get("id"),
            "plan_id": plan_id,
            "billing_period": period,
            "mrr_amount_eur": mrr,
            "discount_pct": _discount_pct(obj),
            "period_end_at": _period_end(obj),
        }
        if event_type == "customer.subscription.created":
            return [{**sub, "event_type": "subscription.started"}]
        if event_type == "customer.subscription.deleted":
            ended = utc_iso(obj.get("ended_at") or obj.get("canceled_at")) or sub["period_end_at"]
            return [{**sub, "event_type": "subscription.cancelled", "period_end_at": ended}]
        if event_type == "customer.subscription.updated":
            previous = data.get("previous_attributes") or {}
            if "items" in previous or "discount" in previous:
                before = monthly_recurring_revenue({**obj, **previous})
                if before is not None and mrr is not None and before != mrr:
                    kind = "upgraded" if mrr > before else "downgraded"
                    return [
                        {
                            **sub,
                            "event_type": f"subscription.{kind}",
                            "previous_mrr_amount_eur": before,
                        }
                    ]
            if "current_period_end" in previous or "current_period_start" in previous:
                return [{**sub, "event_type": "subscription.renewed"}]
            raise Unmapped(
                f"subscription update of {sorted(previous)} changes neither MRR nor period"
            )
        raise Unmapped(f"Stripe event type {event_type!r} has no billing event")
    if event_type.startswith("invoice."):
        _check_currency(obj)
        invoice = {
            **base,
            "invoice_id": obj.get("id"),
            "subscription_id": obj.get("subscription")
            if isinstance(obj.get("subscription"), str)
            else None,
        }
        if event_type == "invoice.finalized":
            return [
                {
                    **invoice,
                    "event_type": "invoice.issued",
                    "amount_eur": _euros(obj.get("amount_due")),
                }
            ]
        if event_type == "invoice.paid":
            return [
                {
                    **invoice,
                    "event_type": "invoice.paid",
                    "amount_eur": _euros(obj.get("amount_paid")),
                }
            ]
        if event_type == "invoice.payment_failed":
            error = obj.get("last_finalization_error") or {}
            return [
                {
                    **invoice,
                    "event_type": "invoice.payment_failed",
                    "amount_eur": _euros(obj.get("amount_due")),
                    "attempt_number": obj.get("attempt_count"),
                    "failure_reason": error.get("code") if isinstance(error, dict) else None,
                }
            ]
        raise Unmapped(f"Stripe event type {event_type!r} has no billing event")
    if event_type == "charge.refunded":
        _check_currency(obj)
        return [
            {
                **base,
                "event_type": "invoice.refunded",
                "invoice_id": obj.get("invoice") if isinstance(obj.get("invoice"), str) else None,
                "amount_eur": _euros(obj.get("amount_refunded")),
            }
        ]
    raise Unmapped(f"Stripe event type {event_type!r} has no billing event")


def candidates_for(event: object, line: int) -> list[Candidate]:
    """Candidates for one Stripe Event: its envelope records, or one to quarantine."""
    if not isinstance(event, dict):
        return [Candidate(line, event, error=(NOT_AN_OBJECT, None, "an Event is not an object"))]
    try:
        records = map_event(event)
    except Unmapped as unmapped:
        return [Candidate(line, event, error=(UNMAPPED_SOURCE_OBJECT, "type", str(unmapped)))]
    return [Candidate(line, record) for record in records]


def read(path: Path) -> Iterator[Candidate]:
    """Envelope candidates from a file of Stripe Events (see the module docstring)."""
    path = Path(path)
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        try:
            lines = path.read_bytes().split(b"\n")
        except OSError as error:
            raise UnreadableInput(path, error.strerror or str(error)) from None
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            text = line.decode("utf-8", "backslashreplace")
            try:
                event = json.loads(text)
            except json.JSONDecodeError as error:
                yield Candidate(number, None, raw=text, error=(INVALID_JSON, None, error.msg))
                continue
            yield from candidates_for(event, number)
        return
    document = load_json(path)
    if isinstance(document, dict) and document.get("object") == "list":
        events = document.get("data") or []
    elif isinstance(document, list):
        events = document
    elif isinstance(document, dict):
        events = [document]
    else:
        raise UnreadableInput(path, "expected a Stripe Event, a list of Events or a list object")
    for number, event in enumerate(events, start=1):
        yield from candidates_for(event, number)

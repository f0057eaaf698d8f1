"""Money in one currency per table: every price converted with a configured rate table, the original kept.

Portals list prices in their own currency (GBP, EUR, USD …); sorting or comparing them as numbers would rank a
€100 dress beside a £100 one. ``report_currency`` names the table's currency and ``currency_rates`` how many
units of it one unit of each other currency is worth (``{"EUR": 0.86, "USD": 0.79}`` with GBP; the report
currency itself is 1). A price whose currency has no rate keeps its original and gets no converted price (the
run's notes name the currency). The rates are configuration, dated by whoever sets them: FTI never fetches them.
"""

from __future__ import annotations

from collections.abc import Mapping


def rate(currency: str | None, target: str, rates: Mapping[str, float]) -> float | None:
    """Units of ``target`` per unit of ``currency`` (None when unknown)."""
    code = str(currency or "").strip().upper()
    if not code:
        return None
    if code == target.upper():
        return 1.0
    value = {k.upper(): v for k, v in rates.items()}.get(code)
    return float(value) if value else None


def convert(price: float | None, currency: str | None, target: str, rates: Mapping[str, float]) -> float | None:
    """``price`` in ``target`` (rounded to cents), or None when there is no price or no rate."""
    if price is None or price != price:
        return None
    factor = rate(currency, target, rates)
    return None if factor is None else round(float(price) * factor, 2)


def convert_offers(offers: list[dict], target: str, rates: Mapping[str, float]) -> list[dict]:
    """Offers with ``price``/``currency`` in ``target`` and ``original_price``/``original_currency``, cheapest
    first by the converted price (offers without one last)."""
    out = []
    for offer in offers:
        converted = convert(offer.get("price"), offer.get("currency"), target, rates)
        out.append({**offer, "original_price": offer.get("price"), "original_currency": offer.get("currency"),
                    "price": converted, "currency": target if converted is not None else None})  # fmt: skip
    return sorted(
        out, key=lambda o: (o["price"] is None, o["price"] or 0, str(o.get("portal")), str(o.get("product_id")))
    )


def unknown_currencies(offers: Mapping[str, list[dict]], target: str, rates: Mapping[str, float]) -> list[str]:
    """Currencies of priced offers that have no rate (for the run's notes)."""
    seen = {
        str(o.get("currency") or "").upper() for items in offers.values() for o in items if o.get("price") is not None
    }
    return sorted(c for c in seen if c and rate(c, target, rates) is None)

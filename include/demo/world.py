"""A seeded, reproducible "world" behind the demo web: two shops' catalogs and a social feed with trends.

:func:`build_world` draws every product and post from one seed. Ten catalog products are *planted* trends:
about 60 % of the social posts are consumer photos of them (more for stronger trends), the rest are noise.
Images are rendered lazily and cached (:meth:`World.image_bytes`); :meth:`World.truth` is the answer key.

The records (:class:`Product`, :class:`Post`, :class:`PlantedTrend`, :class:`World`) live in
:mod:`include.demo.entities` and stay importable from here.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from include.demo.entities import EPOCH, POST_SIZE, PlantedTrend, Post, Product, World
from include.synth.apparel import PALETTE, Design, random_design

__all__ = [
    "BASE_PRICE",
    "BRANDS",
    "EPOCH",
    "IG_LINES",
    "IG_TAGS",
    "N_PLANTED",
    "PIN_TITLES",
    "PLANTED_SHARE",
    "PORTALS",
    "POST_SIZE",
    "STYLES",
    "PlantedTrend",
    "Post",
    "Product",
    "World",
    "build_world",
]

PORTALS = ("boutique", "outlet")
BRANDS = {
    "boutique": ["Maison Verre", "Alder & Finch", "Kestrel Studio", "Ottoline"],
    "outlet": ["Northbound", "Pale Harbour", "Basics & Co.", "Ottoline Outlet"],
}
STYLES = {
    "tshirt": ["t-shirt", "crew-neck tee", "oversized tee"],
    "shirt": ["shirt", "oxford shirt", "poplin shirt"],
    "dress": ["midi dress", "shirt dress", "tea dress"],
    "skirt": ["A-line skirt", "midi skirt", "mini skirt"],
    "trousers": ["wide-leg trousers", "straight trousers", "tailored trousers"],
    "shorts": ["shorts", "chino shorts", "bermuda shorts"],
    "jacket": ["blazer", "jacket", "cropped jacket"],
    "hoodie": ["hoodie", "zip hoodie", "oversized hoodie"],
    "coat": ["trench coat", "wool coat", "longline coat"],
    "tanktop": ["vest top", "tank top", "camisole"],
}
BASE_PRICE = {
    "tshirt": 18,
    "shirt": 35,
    "dress": 55,
    "skirt": 38,
    "trousers": 45,
    "shorts": 25,
    "jacket": 85,
    "hoodie": 42,
    "coat": 140,
    "tanktop": 15,
}
IG_TAGS = ["#ootd", "#fashion", "#style", "#whatiwore", "#londonstyle", "#lookoftheday", "#instafashion"]
IG_LINES = [
    "Sunday stroll",
    "New in!",
    "Obsessed with this one",
    "Outfit of the day",
    "City vibes",
    "Coffee run",
    "Weekend mood",
    "Can't stop wearing this",
]
PIN_TITLES = [
    "London Fashion Week street style",
    "LFW runway look",
    "Fashion week inspiration",
    "Next season trend",
    "Street style at the shows",
]
N_PLANTED = 10
PLANTED_SHARE = 0.6


def _title(d: Design, rng: np.random.Generator) -> str:
    adj = {
        "solid": "",
        "stripes": "pinstripe" if d.stripe_width < 14 else "striped",
        "dots": "polka-dot",
        "checks": "gingham" if d.check_size < 30 else "checked",
        "print": f"{d.motif} print",
    }[d.pattern]
    styles = STYLES[d.silhouette]
    extra = {"none": "", "graphic": "graphic"}.get(d.feature, "colour-block")
    words = [d.base, adj, extra, styles[int(rng.integers(len(styles)))]]
    text = " ".join(w for w in words if w)
    return text[0].upper() + text[1:].lower()


def _key(d: Design) -> tuple:
    """What makes two designs look the same (print seeds of other patterns are unused)."""
    if d.pattern == "solid":  # the secondary colour only shows in the trims
        return (d.silhouette, d.base, d.pattern, d.feature, d.accent)
    return (
        d.silhouette,
        d.base,
        d.secondary,
        d.pattern,
        d.orientation,
        d.stripe_width // 3,
        d.dot_radius // 2,
        d.dot_spacing // 4,
        d.check_size // 4,
        d.motif_seed,
    )


def _relist(products: list[Product], planted: np.ndarray, seed: int) -> dict[int, list[str]]:
    """Append, for each planted product, the same design sold on the other portal; returns index -> new skus."""
    rng = np.random.default_rng([seed, 4242])  # its own stream: relisting never changes the rest of the world
    out: dict[int, list[str]] = {}
    for j in planted.tolist():
        prod = products[j]
        portal = PORTALS[1 - PORTALS.index(prod.portal)]
        brand = BRANDS[portal][int(rng.integers(len(BRANDS[portal])))]
        sku = f"{'BTQ' if portal == 'boutique' else 'OUT'}-{10001 + len(products)}"
        price = round(max(4.0, round(prod.price * rng.uniform(0.7, 1.3))) - 0.01, 2)
        desc = f"{prod.title} by {brand.rstrip('.')}. Regular fit. Machine washable. Free returns within 30 days."
        products.append(
            Product(sku, portal, prod.title, brand, price, prod.currency, prod.category, f"p-{sku}", desc,
                    prod.design, None, image_quality=78)
        )  # fmt: skip
        out[int(j)] = [sku]
    return out


def _load_photos(images_dir: str) -> list[dict]:
    root = Path(images_dir)
    with open(root / "styles.csv", newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if (root / "images" / f"{r['id']}.jpg").is_file()]
    for r in rows:
        r["path"] = str(root / "images" / f"{r['id']}.jpg")
    return sorted(rows, key=lambda r: int(r["id"]) if r["id"].isdigit() else r["id"])


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def build_world(
    seed: int = 7,
    n_products: int = 1000,
    n_posts: int = 300,
    day: int = 0,
    images_dir: str | None = None,
    relist: int = 0,
) -> World:
    """Draw a reproducible world.

    Args:
        seed: Everything (catalog, planted trends, posts, images) follows from it.
        n_products: Catalog size over both portals (capped by the photos available with ``images_dir``).
        n_posts: Social posts over both networks (about 2/3 instagram, 1/3 pinterest).
        day: Days after 2026-11-01. The catalog and the planted set stay; the posts are those of that day:
            rising trends get more of them, fading ones fewer (see :meth:`PlantedTrend.strength`), and post ids
            differ from day to day (day 0 keeps the historical ids).
        images_dir: Optional folder in the Kaggle "fashion product images" layout (``styles.csv`` and
            ``images/<id>.jpg``); products are then those real photos and posts consumer views of them.
        relist: The first ``relist`` planted designs are also sold on the other portal (an extra product with
            the same garment, its shot encoded at another JPEG quality): one design, two offers.

    Returns:
        The :class:`World`.
    """
    rng = np.random.default_rng(seed)
    photos = _load_photos(images_dir) if images_dir else []
    if images_dir and not photos:
        raise ValueError(f"{images_dir}: no styles.csv row has its images/<id>.jpg")
    if photos:
        photos = [photos[i] for i in rng.permutation(len(photos))]
        n_products = min(n_products, max(1, len(photos) * 2 // 3))
    if n_products < 1:
        raise ValueError("n_products must be >= 1")
    portals = np.array([PORTALS[i % 2] for i in range(n_products)])[rng.permutation(n_products)]
    seen: set[tuple] = set()
    products: list[Product] = []
    for i in range(n_products):
        portal = str(portals[i])
        brand = BRANDS[portal][int(rng.integers(len(BRANDS[portal])))]
        sku = f"{'BTQ' if portal == 'boutique' else 'OUT'}-{10001 + i}"
        factor = rng.lognormal(0, 0.25) * (1.0 if portal == "boutique" else 0.6)
        if photos:
            row = photos[i]
            category = row["articleType"]
            title = row.get("productDisplayName") or f"{row['baseColour']} {row['articleType']}"
            design, photo, base = None, row["path"], 40.0
        else:
            design = random_design(rng)
            while _key(design) in seen:
                design = random_design(rng)
            seen.add(_key(design))
            category, title, photo = design.silhouette, _title(design, rng), None
            base = BASE_PRICE[design.silhouette]
        price = round(max(4.0, round(base * factor)) - 0.01, 2)
        desc = f"{title} by {brand.rstrip('.')}. Regular fit. Machine washable. Free returns within 30 days."
        products.append(Product(sku, portal, title, brand, price, "GBP", category, f"p-{sku}", desc, design, photo))

    # Planted trends: strongest first, weights 1.0 -> 0.5; two of them upcoming (pinterest only).
    n_planted = min(N_PLANTED, n_products)
    chosen = rng.choice(n_products, n_planted, replace=False)
    weights = np.linspace(1.0, 0.5, n_planted) if n_planted > 1 else np.ones(1)
    upcoming = set(rng.choice(n_planted, min(2, n_planted // 5), replace=False).tolist())
    # Directions among the current trends (by weight order): two rising, two fading, the rest steady.
    current = [k for k in range(n_planted) if k not in upcoming]
    direction = {k: "steady" for k in range(n_planted)}
    for pos, name in ((1, "rising"), (4, "rising"), (2, "fading"), (5, "fading")):
        if pos < len(current):
            direction[current[pos]] = name
    relisted = _relist(products, chosen[: max(0, relist)], seed) if relist and not photos else {}
    trends = [
        PlantedTrend(
            products[j].sku,
            products[j].portal,
            products[j].title,
            "upcoming" if k in upcoming else "current",
            float(weights[k]),
            direction[k],
            {"rising": 0.75, "fading": 0.2}.get(direction[k], 0.0),
            tuple(relisted.get(int(j), ())),
        )
        for k, j in enumerate(chosen)
    ]
    strengths = np.array([t.strength(day) for t in trends])
    n_planted_posts = round(PLANTED_SHARE * n_posts)
    quota = strengths / strengths.sum() * n_planted_posts
    counts = np.floor(quota).astype(int)
    for k in np.argsort(-(quota - counts), kind="stable")[: n_planted_posts - counts.sum()]:
        counts[k] += 1

    # (planted_sku, source_sku, design, photo, network) per post.
    specs: list[tuple[str | None, str | None, Design | None, str | None, str]] = []
    for k, t in enumerate(trends):
        prod = products[int(chosen[k])]
        for _ in range(counts[k]):
            net = "pinterest" if t.horizon == "upcoming" or rng.random() < 0.1 else "instagram"
            specs.append((t.sku, t.sku, prod.design, prod.photo, net))
    n_noise = n_posts - len(specs)
    pin_so_far = sum(s[4] == "pinterest" for s in specs)
    p_pin = float(np.clip((n_posts / 3 - pin_so_far) / max(n_noise, 1), 0.0, 1.0))
    planted_idx = {int(j) for j in chosen}
    spare = [i for i in rng.permutation(n_products).tolist() if i not in planted_idx]
    extra_photos = photos[n_products:]
    for _ in range(n_noise):
        net = "pinterest" if rng.random() < p_pin else "instagram"
        if spare and rng.random() < 0.5:
            prod = products[spare.pop()]
            specs.append((None, prod.sku, prod.design, prod.photo, net))
        elif extra_photos:
            specs.append((None, None, None, extra_photos[int(rng.integers(len(extra_photos)))]["path"], net))
        else:
            d = random_design(rng)
            while _key(d) in seen:
                d = random_design(rng)
            seen.add(_key(d))
            specs.append((None, None, d, None, net))
    specs = [specs[i] for i in rng.permutation(len(specs))]

    # Newest first; times of day are drawn independently of ``day`` so only the date moves.
    seconds = np.sort(rng.integers(0, 86400, len(specs)))[::-1]
    midnight = datetime.combine(EPOCH + timedelta(days=day), datetime.min.time(), tzinfo=UTC)
    colours = {n.lower(): rgb for n, rgb in PALETTE.items()}
    photo_colour = {r["path"]: r["baseColour"].lower() for r in photos}
    posts: list[Post] = []
    for i, (planted_sku, source_sku, d, photo, net) in enumerate(specs):
        ts = (midnight + timedelta(seconds=int(seconds[i]))).isoformat()
        post_id = str(
            (17_900_000_000_000_000 if net == "instagram" else 1_100_000_000_000_000) + 1000 + 100_000 * day + i
        )
        strength = trends[[t.sku for t in trends].index(planted_sku)].strength(day) if planted_sku else 0.2
        likes = int(rng.lognormal(np.log(150 + 900 * strength), 0.6))
        mention = _title(d, rng).lower() if d is not None and rng.random() < 0.3 else ""
        if net == "instagram":
            tags = " ".join(["#streetstyle", *rng.choice(IG_TAGS, int(rng.integers(2, 5)), replace=False)])
            title = IG_LINES[int(rng.integers(len(IG_LINES)))]
        else:
            tags = "#lfw #fashionweek #streetstyle"
            title = PIN_TITLES[int(rng.integers(len(PIN_TITLES)))]
        caption = " ".join(x for x in (f"{title}.", f"Loving this {mention}." if mention else "", tags) if x)
        rgb = d.base_rgb if d is not None else colours.get(photo_colour.get(photo or ""), (128, 128, 128))
        posts.append(
            Post(
                post_id,
                net,
                title,
                caption,
                likes,
                int(likes * rng.uniform(0.01, 0.05)),
                ts,
                f"s-{post_id}",
                planted_sku,
                source_sku,
                d,
                photo,
                _hex(rgb),
            )
        )
    return World(seed, day, products, posts, trends, images_dir)

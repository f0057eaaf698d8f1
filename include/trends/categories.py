"""The catalog category of a design: the listing's own category when the portal gave one, else its title's garment.

Portal manifests do not carry a category column today, so the category is read from the product title: the
*rightmost* garment word of the title wins, because English puts the head noun last ("shirt dress" is a dress,
"vest top" a top, "chino shorts" shorts). A title naming no garment of the vocabulary is ``other``.
"""

from __future__ import annotations

import re

CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "dresses": ("dress", "dresses", "gown", "jumpsuit", "playsuit"),
    "skirts": ("skirt", "skirts"),
    "t-shirts": ("t-shirt", "t-shirts", "tshirt", "tshirts", "tee", "tees"),
    "shirts": ("shirt", "shirts", "blouse", "blouses"),
    "tops": ("top", "tops", "camisole", "cami", "bodysuit", "tunic"),
    "knitwear": ("sweater", "sweaters", "jumper", "jumpers", "cardigan", "cardigans", "pullover"),
    "hoodies": ("hoodie", "hoodies", "sweatshirt", "sweatshirts"),
    "jackets": ("jacket", "jackets", "blazer", "blazers", "bomber", "gilet"),
    "coats": ("coat", "coats", "parka", "trench", "overcoat"),
    "trousers": ("trousers", "pants", "chinos", "joggers", "leggings", "track pants"),
    "jeans": ("jeans", "denims"),
    "shorts": ("shorts",),
    "shoes": ("shoes", "sneakers", "trainers", "boots", "heels", "sandals", "loafers", "flats", "flip flops"),
    "bags": ("bag", "bags", "handbag", "handbags", "backpack", "tote", "clutch"),
    "accessories": ("watch", "watches", "belt", "belts", "scarf", "scarves", "cap", "hat", "sunglasses", "wallet"),
}
_WORD = {w: c for c, words in CATEGORY_WORDS.items() for w in words}
_PATTERN = re.compile(r"(?<![a-z])(" + "|".join(sorted(map(re.escape, _WORD), key=len, reverse=True)) + r")(?![a-z])")


def category_of(title: object, given: object = None) -> str:
    """The category of a listing: ``given`` when it is a non-empty string, else the title's garment (or ``other``)."""
    if isinstance(given, str) and given.strip():
        return given.strip().lower()
    found = _PATTERN.findall(str(title or "").lower())
    return _WORD[found[-1]] if found else "other"

"""The one item every spider yields: a piece of media with the metadata the manifest keeps."""

from __future__ import annotations

import scrapy


class MediaItem(scrapy.Item):
    """A catalog product (portal) or a social post, with the image URL(s) to store."""

    product_id = scrapy.Field()  # SKU for products, post id for social media
    page_url = scrapy.Field()  # product page or post permalink
    title = scrapy.Field()
    brand = scrapy.Field()
    price = scrapy.Field()
    currency = scrapy.Field()
    availability = scrapy.Field()  # schema.org availability (InStock, OutOfStock, PreOrder, ...)
    likes = scrapy.Field()
    posted_at = scrapy.Field()
    caption = scrapy.Field()
    image_urls = scrapy.Field()  # ImagesPipeline input
    images = scrapy.Field()  # ImagesPipeline output, enriched with sha256/format/size

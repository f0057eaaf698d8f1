"""Scrapy settings shared by every FTI spider (Scrapy project template style).

Per-source values (image store, limits, batch partition) are set by :mod:`crawlers.crawl` from the FTI settings
object and the source registry.
"""

BOT_NAME = "fti"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

USER_AGENT = "FTI-FashionTrendBot/0.1 (+https://github.com/fashion-trend-intelligence/fti)"
ROBOTSTXT_OBEY = True

CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024

DOWNLOADER_MIDDLEWARES = {"crawlers.guard.AddressGuardMiddleware": 50}  # before robots.txt and redirects
FTI_ALLOWED_HOSTS: list[str] = []  # private hosts a source explicitly allows (set per crawl)

ITEM_PIPELINES = {
    "crawlers.pipelines.LakeImagesPipeline": 300,
    "crawlers.pipelines.ManifestPipeline": 800,
}
IMAGES_MIN_HEIGHT = 0
IMAGES_MIN_WIDTH = 0
MEDIA_ALLOW_REDIRECTS = True  # CDNs redirect; every hop passes the address guard
IMAGES_EXPIRES = 0  # always fetch: the manifest needs each image's content hash and size

LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # batch crawls: no control port
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

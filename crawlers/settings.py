"""Scrapy settings shared by every FTI spider (Scrapy project template style).

Per-source values (image store, limits, batch partition) are set by :mod:`crawlers.crawl` from the FTI settings
object and the source registry.
"""

BOT_NAME = "fti"
SPIDER_MODULES = ["crawlers.spiders"]
SPIDER_LOADER_CLASS = "crawlers.spider_loader.SourceSpiderLoader"  # spider types + one spider per source
SPIDER_CONTRACTS = {"crawlers.contracts.LoopbackUrlContract": 1}
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
FTI_RETRY_AFTER_MAX = 60.0  # longest wait (s) a Retry-After or backoff may impose on one retry
FTI_RETRY_BACKOFF_BASE = 1.0  # without Retry-After: base * 2**attempt seconds
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024

DOWNLOADER_MIDDLEWARES = {
    "crawlers.guard.AddressGuardMiddleware": 50,  # before robots.txt, the HTTP cache and redirects
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawlers.skips.CountingRobotsTxtMiddleware": 100,  # each refused page counted as robots-disallowed
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.politeness.RetryAfterMiddleware": 550,
    "crawlers.breaker.BotWallBreaker": 540,  # sees each page after its retries and redirects
}
FTI_BLOCKED_AFTER = 20  # bot wall: refusals in a row (403 / challenge pages) that stop a source
FTI_BLOCKED_AFTER_SECONDS = 45.0  # ... or seconds of nothing but refusals (at least 3)
FTI_API_USAGE_SLOW = 75.0  # Graph API usage headers: wait before the next call from this percent
FTI_API_USAGE_STOP = 95.0  # ... and stop cleanly from this one
SPIDER_MIDDLEWARES = {"crawlers.skips.HttpErrorSkips": 60}  # a page answering 404/429/...: skip http-<status>
EXTENSIONS = {"crawlers.budget.ByteBudget": 500}
FTI_MAX_BYTES = 0  # bytes per crawl (pages + images); set per crawl from FTI_MAX_BYTES_PER_CRAWL, 0 = no cap

# Development only (FTI_HTTP_CACHE=1): replay responses from FTI_HTTP_CACHE_DIR instead of re-fetching.
HTTPCACHE_ENABLED = False
HTTPCACHE_EXPIRATION_SECS = 0
HTTPCACHE_IGNORE_HTTP_CODES = [401, 403, 408, 429, 500, 502, 503, 504]
FTI_ALLOWED_HOSTS: list[str] = []  # private hosts a source explicitly allows (set per crawl)

ITEM_PIPELINES = {
    "crawlers.pipelines.LakeImagesPipeline": 300,
    "crawlers.pipelines.ManifestPipeline": 800,
}
IMAGES_MIN_HEIGHT = 0
IMAGES_MIN_WIDTH = 0
MEDIA_ALLOW_REDIRECTS = True  # CDNs redirect; every hop passes the address guard
IMAGES_EXPIRES = 90  # days an image (and its meta sidecar) is reused before it is fetched again

LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # batch crawls: no control port
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

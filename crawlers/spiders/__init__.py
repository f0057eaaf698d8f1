"""One spider module per source *type*; a source is configuration in ``include/core/sources.yaml``."""

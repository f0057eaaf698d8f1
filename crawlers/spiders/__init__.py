"""One spider module per source *type*; a source is configuration in ``include/sources.yaml``."""

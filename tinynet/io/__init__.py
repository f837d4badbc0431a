"""File formats, downloads, caches and atomic writes (see CONTRACT: io/ never imports tinynet.models)."""

"""The realistic demo: a dozen proposals walking every path on the dev server."""

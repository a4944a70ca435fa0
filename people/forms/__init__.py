"""Forms of the people pages, one module per feature."""

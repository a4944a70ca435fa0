"""The people pages, one module per feature: directory (the worker directory and a worker's page,
notes and tags), bonuses, blocks, messages, groups (study groups)."""

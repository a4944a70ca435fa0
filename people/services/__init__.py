"""Business logic of the people app, one module per feature: directory (read queries), bonuses
(the ledger and its sender), bonus_upload (planning a bonus file), blocks (hard and soft),
messaging, study_groups."""

from __future__ import annotations

# Models arrive with the mirror issue (MTurk records synced per requester account).

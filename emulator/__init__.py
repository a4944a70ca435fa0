"""Offline Amazon Mechanical Turk: the Requester API (2017-01-17) over HTTP, a simulated crowd,
notifications, faults and a control API. No Django here.

Layout:
- server.py: HTTP (MTurk JSON 1.1 at `/`, control API under `/_emulator/`); testing.py runs it
  in-process (`run_emulator`); __main__.py is `python -m emulator serve`.
- protocol.py (errors, ids, money, timestamps), validation.py (botocore's model as the authority),
  pagination.py (stable NextTokens).
- engine.py: the lock, the emulated clock (clock.py), timers, HIT and assignment transitions,
  payments, events; state.py holds the records; persistence.py saves them atomically.
- operations/: the 39 operations, by area; requirements.py, review_policies.py; answer_xml.py
  writes and reads all answer XML (QuestionFormAnswers, AnswerKey).
- crowd.py: simulated workers; answers come from answering/ (fields.py: field discovery, values.py:
  value generation, assemble.py: answer assembly); notifications.py delivers events, signed
  by sns_signing.py.
- control.py: the control API; faults.py: throttling, service faults, latency, delivery faults.
"""

from __future__ import annotations

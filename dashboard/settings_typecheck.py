"""Settings for mypy's Django plugin only (see [tool.django-stubs] in pyproject.toml).

The plugin imports the settings to learn the installed apps and models. The real settings refuse
to load without secrets unless DEBUG is on, and type checking must work in a bare shell, so this
turns DEBUG on for the type checker's own process and changes nothing else: the types the plugin
reports for settings are read from dashboard/settings.py itself.
"""

from __future__ import annotations

import os

os.environ["DEBUG"] = "true"

from dashboard.settings import *  # noqa: E402,F403

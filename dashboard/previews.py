"""How a preview page isolates the question it shows: the iframe's sandbox and the page's CSP.

Question HTML, scripts and external pages are untrusted and must never run with the dashboard's
privileges. A preview page frames them in an ``<iframe sandbox>`` whose flags are one of the
``SANDBOX_*`` values below, and serves itself with the Content-Security-Policy of
:func:`preview_csp`. It lives in the core because every app that previews questions must use the
same pair: the review workspace (which pair a HIT's question gets is decided by
:mod:`hits.preview.build`) and the qualification test editor.
"""

from __future__ import annotations

import re

__all__ = [
    "HTTPS_ORIGIN",
    "SANDBOX_EXTERNAL",
    "SANDBOX_NO_SCRIPTS",
    "SANDBOX_WITH_SCRIPTS",
    "preview_csp",
]

# Question scripts may run, but only in an opaque origin (no allow-same-origin): they can neither
# read the dashboard (parent/top access throws) nor use cookies or storage of any origin.
SANDBOX_WITH_SCRIPTS = "allow-scripts allow-forms"
# Our own QuestionForm rendering needs no script, so none may run; forms cannot submit either.
SANDBOX_NO_SCRIPTS = ""
# An external https page keeps its own origin (never ours, see build_preview) so its scripts,
# cookies and storage work as they do for workers; the same-origin policy still separates it from
# the dashboard. allow-same-origin is only dangerous for a document of the embedder's own origin,
# which could then lift its own sandbox.
SANDBOX_EXTERNAL = "allow-scripts allow-forms allow-same-origin"

# A plain https origin, lower case: nothing that could smuggle extra directives into a policy.
HTTPS_ORIGIN = re.compile(r"https://[a-z0-9.-]+(:[0-9]{1,5})?")


def preview_csp(external_origin: str | None = None, *, scripts: bool = True) -> str:
    """The Content-Security-Policy of a preview page.

    A srcdoc frame inherits the policy of the page that contains it, so this one policy governs both
    our slim page and the question inside the frame:

    - Question scripts (inline, or from any https host, as on MTurk) may run, with eval: they run in
      an opaque origin, so eval grants nothing inline script lacks. ``scripts=False`` (our own
      QuestionForm rendering, the layout table) allows none.
    - ``connect-src 'none'``: no fetch/XHR/WebSocket at all, so nothing can call our endpoints.
    - ``form-action 'none'``: a form post goes nowhere (and cannot reach our views).
    - ``base-uri 'none'``, ``object-src 'none'``: no base-URL hijack, no plugins.
    - ``frame-ancestors 'self'``: only our own pages may embed the preview page.
    - ``sandbox``: the preview page itself gets an opaque origin too, so even an escaping bug in our
      slim page could not run script with the dashboard's privileges.

    With ``external_origin`` (an ExternalQuestion), the page runs no script and may frame only that
    origin; there is no sandbox directive because it would force the external page into an opaque
    origin as well (nested frames inherit sandbox flags) and break it.
    """
    locked = [
        "connect-src 'none'",
        "form-action 'none'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'self'",
    ]
    if external_origin is not None:
        origin = external_origin.lower().rstrip("/")
        # Anything that is not a plain https origin could smuggle extra directives (";", spaces).
        frame = origin if HTTPS_ORIGIN.fullmatch(origin) else "'none'"
        return "; ".join(
            [
                "default-src 'none'",
                "style-src 'self'",
                "img-src 'self' data:",
                f"frame-src {frame}",
                *locked,
            ]
        )
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'unsafe-inline' 'unsafe-eval' https:" if scripts else "script-src 'none'",
            "style-src 'self' 'unsafe-inline' https:",
            "img-src https: data:",
            "font-src https: data:",
            "media-src https: data:",
            "frame-src https:",
            *locked,
            "sandbox allow-scripts allow-forms" if scripts else "sandbox",
        ]
    )

"""The dashboard: server-rendered pages for reviewers, compliance officers and auditors.

Plain HTML and one small stylesheet, served by the server itself (no CDN, no
script): a systems overview, each model version's evidence, decisions,
fairness, drift and explanations, the approvals queue with approve / reject
forms, the audit log with its verification, and report downloads. Pages read
the store through the same guards as the API (:mod:`trustops.server.security`);
logging in turns an API token into a session cookie (:mod:`.session`).

- :mod:`.routes`: the pages and their guards (:func:`dashboard_router`);
- :mod:`.views`: what each page shows, read from the registry;
- :mod:`.session`: the session cookie and the CSRF check of every form.
"""

from __future__ import annotations

from trustops.server.dashboard.routes import dashboard_router

__all__ = ["dashboard_router"]

"""The trustops server: REST API and dashboard over the governance store (``trustops serve``).

:func:`~trustops.server.app.create_app` builds the FastAPI application from
the workspace's settings; nothing is created at import time. The store
(database, artifact store, audit log) is opened once when the server starts
and shared; each request gets its own :class:`~trustops.governance.Registry`
whose actor is the authenticated user, so every audit entry names who acted.

Deny by default. Every route declares who may call it, in its signature, with
one of the guards of :mod:`trustops.server.security`; a route without a
declaration cannot even be built (:class:`~trustops.server.security.GuardedRoute`
raises), ``create_app`` refuses an application holding one, and
``tests/server/test_routes.py`` walks ``app.routes`` to prove it. The guard
runs before FastAPI reads the body, in this order:

1. a credential in the query string: 401 (tokens never travel in URLs);
2. no valid Bearer token or session cookie: 401, before any validation;
3. the caller's roles lack the permission in every system: 403;
4. a ``{system}`` path parameter naming a system the caller is not a member
   of: 404, exactly as for a system that does not exist;
5. the caller's role in that system lacks the permission: 403.

Then the body is read (at most ``max_body_bytes``, counted as it streams:
413), parsed (malformed JSON: 422) and validated (unknown fields: 422).
Every refusal of an authenticated caller (any 4xx) appends one audit entry
(``access.refused``); nothing else is stored.

Adding an API area (how monitoring and privacy plug in)
--------------------------------------------------------

1. One module per area, ``src/trustops/server/api/<area>.py``, holding
   ``router = api_router("<tag>")`` (:func:`trustops.server.api.api_router`: an
   APIRouter whose routes are :class:`~trustops.server.security.GuardedRoute`
   and whose OpenAPI entries document the error answers). Paths are written
   without the ``/api/v1`` prefix, which ``create_app`` adds.
2. Each endpoint takes its caller from a guard::

       @router.get("/systems/{system}/monitors")
       def list_monitors(
           system: SystemName, caller: Annotated[Caller, Depends(requires(Permission.X))]
       ) -> list[MonitorOut]:
           return [...]  # caller.registry acts as caller.user; raise trustops errors

   (``Caller`` and the guards are in :mod:`trustops.server.security`.)
   ``requires(permission)`` for a permission of :mod:`trustops.core.access`
   (add the member and its role grants there), ``AUTHENTICATED`` for any
   signed-in caller, ``PUBLIC`` for no check at all (health, metrics).
   A system-scoped route takes the system as the path parameter ``{system}``
   (typed :data:`~trustops.server.api.schemas.SystemName`) so the guard can
   answer 404/403 before the body is read; objects found by id must be checked
   with ``caller.check_visible(system)`` by the endpoint.
3. Request bodies are models deriving from
   :class:`~trustops.server.api.schemas.Body` (``extra="forbid"``); path
   parameters use the constrained types there (``SystemName``, ``Ref``), so a
   traversal attempt is refused before any lookup.
4. Errors are :mod:`trustops.errors` exceptions; their ``status`` becomes the
   HTTP status in one place (:mod:`trustops.server.errors`).
5. List the module in ``API_AREAS`` in :mod:`trustops.server.app`, add the
   route rows to the permissions matrix in ``docs/server.md``, and add one
   example request per route to ``tests/server/test_access.py``'s inventory
   (the role-matrix test fails for a route it has no example for).
"""

"""The floating license server a customer runs at its own site (``licensing-floating``).

A floating license lets N computers use the application at once, whichever they are. One server
on the site's network holds the license: it activates offline like any device (its request names
it a floating server; the vendor's signed response certifies its key and its seat count), then
hands out short *leases*, signed with that key, to the workstations that ask. Workstations use
the SDK (:meth:`licensing.LicenseManager.floating`); the artefacts both sides exchange are in
:mod:`licensing.wire`.

The package, by job (it imports only :mod:`licensing` and :mod:`licensing.wire`, and needs only
uvicorn besides the SDK — never the vendor's side):

* :mod:`.site` — the server's folder, and its activation, refresh and deactivation by files;
* :mod:`.store` — the leases, in SQLite: durable, exact under concurrent workers;
* :mod:`.server` — the rules: who gets a seat, renewals, borrows, releases, the seat list;
* :mod:`.app` — the same over HTTP, a bare ASGI app for uvicorn;
* :mod:`.cli` — the ``licensing-floating`` command;
* :mod:`.launcher` — start and stop a server process (tests, benchmarks, the demo, the chatbot).
"""

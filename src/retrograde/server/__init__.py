"""``retrograde serve``: the verbs over HTTP, for people (the page) and programs (the API).

An optional part (``pip install 'retrograde[server]'``), imported only by the
``serve`` verb. Layers: :mod:`~retrograde.server.app` builds the app;
:mod:`~retrograde.server.auth` authenticates every ``/api`` request (bearer
token or page session, CSRF on cookie writes) and checks roles;
:mod:`~retrograde.server.routes` are thin adapters over :mod:`retrograde.commands`;
:mod:`~retrograde.server.jobs` runs applies in the background; errors look as
:mod:`~retrograde.server.errors` says. See docs/server.md.
"""

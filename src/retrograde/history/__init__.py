"""The commit log as a whole: its audit (verify), and moving it in and out (export, import).

Above the store, below the commands: everything here works through a store
transaction's repositories (:mod:`retrograde.storage.repositories`), never
through a database connection, so it holds for every store. The one chain
audit (:mod:`retrograde.history.chain`) is what both ``verify`` and
``import`` check commits with.
"""

"""Sample apps, one per host: ``python -m asyncio_guest.samples.<host>_app``.

Each ``<host>_app`` module is a complete, standalone program (also reachable as
``python -m asyncio_guest demo --host <host>``); ``_common`` holds the toolkit-free asyncio
workload they share and ``_qt`` the window shared by the three Qt bindings.
"""

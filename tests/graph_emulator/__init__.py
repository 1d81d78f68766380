"""A local Microsoft Graph and Entra token service for the collection's tests and demo.

``python -m tests.graph_emulator --help`` runs it; ``from tests.graph_emulator import Emulator`` runs it
in-process. See README.md in this directory.
"""


def __getattr__(name):
    if name == "Emulator":
        from .server import Emulator
        return Emulator
    raise AttributeError(name)

"""`manage.py shell`, importing every model but simple-history's historical ones: their modules
do not name them (each is reached from its model, `Appointment.history.model`), and Django's
shell would list all 26 as failed imports on every start."""

from __future__ import annotations

from importlib import import_module

from django.core.management.commands import shell


def _named_by_its_module(path: str) -> bool:
    module, _, name = path.rpartition(".")
    try:
        return hasattr(import_module(module), name)
    except ImportError:
        return True  # Django says so itself


class Command(shell.Command):
    def get_auto_imports(self) -> list[str] | None:
        paths = super().get_auto_imports()
        return paths if paths is None else [path for path in paths if _named_by_its_module(path)]

"""`manage.py shell`, importing every model but simple-history's historical ones: their modules
do not name them (each is reached from its model, `Appointment.history.model`), and Django's
shell would list all 26 as failed imports on every start. A command (`-c`) or a script piped in
prints only its own output, so that it can feed another program; `-v 2` still lists the imports."""

from __future__ import annotations

import sys
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

    def get_namespace(self, **options):
        if options.get("verbosity") == 1 and (options.get("command") or not sys.stdin.isatty()):
            options = {**options, "verbosity": 0}  # no "53 objects imported automatically" line
        return super().get_namespace(**options)

"""Everything HTTP: the server factory, the security door, pages and the JSON API.

It calls the core's services and holds no business rule; nothing in the core imports it.
"""

import importlib
import importlib.util
import sys
import types
from typing import Any


class _ImportedAtFirstUse(types.ModuleType):
    """Stands in sys.modules for a module until something reads one of its names; then the module is
    imported and answers. (importlib.util.LazyLoader cannot do this on Python 3.11: `import name` reads
    the module's __spec__, which makes it load at once.)"""

    def __getattr__(self, attribute: str) -> Any:   # only names the stand-in does not hold
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        module = importlib.import_module(self.__name__)
        vars(self).update(vars(module))   # later reads find the module's names here directly
        return getattr(module, attribute)


def import_at_first_use(name: str) -> None:
    """Put a stand-in for `name` in sys.modules (unless it is imported already, or not installed)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return
    stand_in = _ImportedAtFirstUse(name)
    stand_in.__spec__ = spec   # what `import name` reads; its code has not run
    sys.modules[name] = stand_in


# Litestar's OpenAPI module imports PyYAML at its top, for a YAML schema that is never served here (the schema
# is JSON, app.web.server). PyYAML's import compiles its regular expressions: ~16 ms of every start (issue
# 21, point 4). It is imported if something ever uses it.
import_at_first_use("yaml")

"""Registries that users extend without editing negmine: selection strategies and export formats.

A :class:`Registry` holds the built-in entries, those added by a call (``negmine.register_strategy``,
``negmine.register_export_format``) and those of installed packages, declared as Python entry points (groups
``negmine.strategies`` and ``negmine.export_formats``). An entry point is listed by name from its package's metadata
(nothing imported) when the options are listed (an unknown-name error, the CLI's help), and imported the first
time its name is looked up; a built-in name never triggers either, so ``import negmine`` and a run with built-ins
scan no package. A plugin that fails to import, or is not what the protocol asks, is a ConfigError naming the entry
point and its package, raised where the name is checked (config validation), before any work.

Registering is the only global effect and happens only on an explicit call; a built-in is never replaced.
:meth:`Registry.origin` says where a non-built-in came from (its module, and the name and version of the package
that declares its entry point or, for one registered by a call, that holds its module), which the mining summary
records: ``SELECTION_VERSION`` covers the built-ins only.
"""

from __future__ import annotations

import re
import warnings
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, Callable, Generic, Iterator, NamedTuple, TypeVar

from negmine.errors import ConfigError, NegmineWarning, caller_stacklevel, unknown_choice

T = TypeVar("T")

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")
"""What a plugin's name may be: it is a command-line value, and an export format's is part of its file's name."""

NAME_RULE = "a str of letters, digits, '-' and '_' (not starting with '-' or '_')"


class Attribute(NamedTuple):
    """One attribute a protocol asks for: its name, a test of its value, and what it must be (for the message)."""

    name: str
    valid: Callable[[Any], bool]
    must_be: str


def is_name(value: object) -> bool:
    return isinstance(value, str) and NAME.match(value) is not None


def is_bool(value: object) -> bool:
    return isinstance(value, bool)


def attribute_problems(obj: object, attributes: tuple[Attribute, ...]) -> list[str]:
    """One line per attribute of ``attributes`` that ``obj`` lacks or holds with a value its test refuses."""
    missing = object()
    problems = []
    for attribute in attributes:
        value = getattr(obj, attribute.name, missing)
        if value is missing:
            problems.append(f"{attribute.name} is missing (it must be {attribute.must_be})")
        elif not attribute.valid(value):
            problems.append(f"{attribute.name} is {value!r}, of type {type(value).__name__} (it must be "
                            f"{attribute.must_be})")
    return problems


def _entry_points(group: str) -> list:
    """The installed entry points of ``group`` (metadata only: nothing is imported)."""
    from importlib.metadata import entry_points

    return list(entry_points(group=group))


def entry_point_origin(point) -> dict:
    """Where an entry point comes from: its group, name, target (``module:attr``) and package name and version."""
    dist = getattr(point, "dist", None)
    return {"source": "entry point", "group": point.group, "entry_point": point.name, "value": point.value,
            "module": point.value.split(":")[0].strip(),
            "distribution": None if dist is None else dist.metadata["Name"],
            "version": None if dist is None else dist.version}


def module_distribution(module: str | None) -> dict | None:
    """``{"distribution": name, "version": version}`` of the installed package that holds the module named
    ``module`` (the one ``importlib.metadata.packages_distributions`` gives for its top-level name, and whose
    installed files hold the module's file, when it lists any for that name: an editable install lists none), or
    None: a module of no installed package (a script, a test), a top-level name more than one package claims
    without one of them holding the file, a module imported from elsewhere than the installed copy."""
    import sys
    from importlib.metadata import distribution, packages_distributions

    if not module:
        return None
    top = module.split(".")[0]
    path = getattr(sys.modules.get(module), "__file__", None)
    owners = [dist for name in dict.fromkeys(packages_distributions().get(top, []))
              if _holds(dist := distribution(name), top, path)]
    if len(owners) != 1:
        return None
    return {"distribution": owners[0].metadata["Name"], "version": owners[0].version}


def _holds(dist, top: str, path: str | None) -> bool:
    """Whether the installed files of ``dist`` hold the module file ``path`` of the top-level name ``top``; True when
    it lists no file of ``top`` (an editable install lists a path file, not the sources)."""
    from pathlib import Path

    files = [f for f in dist.files or () if f.parts and (f.parts[0] == top or f.parts[0] == f"{top}.py")]
    if not files:
        return True
    if path is None:
        return False
    wanted = Path(path).resolve()
    return any(Path(dist.locate_file(f)).resolve() == wanted for f in files)


def describe(origin: dict) -> str:
    """A plugin's origin in words, for messages."""
    if origin["source"] != "entry point":
        return f"registered by {origin['source']} from module {origin['module']}"
    package = origin["distribution"] or "an unknown package"
    version = f" {origin['version']}" if origin["version"] else ""
    return (f"entry point {origin['entry_point']} = {origin['value']} (group {origin['group']}) of package "
            f"{package}{version}")


class Registry(Generic[T]):
    """Entries of one kind by name: the built-ins, those registered by ``call`` and the ``group`` entry points.

    ``check(obj, where)`` raises a ConfigError (naming ``where``) unless ``obj`` follows the kind's protocol,
    whose ``name`` attribute is the name it is looked up by.
    """

    def __init__(self, kind: str, group: str, call: str, builtins: dict[str, T],
                 check: Callable[[object, str], None]) -> None:
        self.kind, self.group, self.call = kind, group, call
        self.builtins = MappingProxyType(dict(builtins))
        self._check = check
        self._added: dict[str, T] = {}
        self._origins: dict[str, dict] = {}
        self._packages: dict[str, dict] = {}  # the package of each registered by a call, once looked up

    def names(self) -> list[str]:
        """Every name that can be looked up: the built-ins, then the registered ones, then the installed entry
        points not loaded yet (sorted). An entry point named like a built-in is left out, with a warning."""
        known = [*self.builtins, *self._added]
        listed = []
        for point in _entry_points(self.group):
            if point.name in self.builtins:
                _warn_shadowed(self.kind, point)
            elif point.name not in known and point.name not in listed:
                listed.append(point.name)
        return known + sorted(listed)

    def get(self, name: str, field: str | None = None, option: str | None = None, many: bool = False) -> T:
        """The entry named ``name``; an unknown name is a ConfigError listing :meth:`names`, ending with
        :func:`negmine.errors.choice_fix`'s hint for the config ``field`` / CLI ``option`` that takes it."""
        found = self.find(name)
        if found is None:
            raise unknown_choice(self.kind, name, self.names(), field, option, many)
        return found

    def find(self, name: str) -> T | None:
        """The entry named ``name``, loading its entry point on first use; None if there is none."""
        if name in self.builtins:
            return self.builtins[name]
        if name not in self._added:
            self._load(name)
        return self._added.get(name)

    def added(self) -> list[tuple[str, T]]:
        """The non-built-in entries registered or loaded so far, by name."""
        return list(self._added.items())

    def origin(self, name: str) -> dict | None:
        """Where the non-built-in ``name`` came from (:func:`entry_point_origin`, or the registering call, the module
        and class of the object and, when an installed package holds that module, the package's name and version:
        :func:`module_distribution`, looked up the first time it is asked for); None for a built-in or an unknown
        name."""
        origin = self._origins.get(name)
        if origin is None or origin["source"] != self.call:
            return origin
        if name not in self._packages:
            self._packages[name] = module_distribution(origin["module"]) or {}
        return {**origin, **self._packages[name]}

    def register(self, obj: T, replace: bool = False) -> T:
        """Add ``obj`` (checked against the protocol) under its ``name``: refused for a built-in's name, and for a
        name already registered or installed unless ``replace``. Returns ``obj`` (so the call can decorate a
        class)."""
        self._check(obj, f"{self.call}({getattr(obj, '__name__', None) or type(obj).__name__})")
        name: str = obj.name  # type: ignore[attr-defined]
        if name in self.builtins:
            raise ConfigError(f"{self.kind} {name!r} is built in and cannot be replaced; give yours another name "
                              f"(built in: {', '.join(self.builtins)})")
        taken = self._origins.get(name) or next(
            (entry_point_origin(p) for p in _entry_points(self.group) if p.name == name), None)
        if taken is not None and not replace:
            raise ConfigError(f"{self.kind} {name!r} is already registered ({describe(taken)}); pass replace=True to "
                              f"{self.call} to replace it, or give yours another name")
        self._added[name] = obj
        self._packages.pop(name, None)
        module = getattr(obj if isinstance(obj, type) else type(obj), "__module__", None)
        qualname = getattr(obj if isinstance(obj, type) else type(obj), "__qualname__", None)
        self._origins[name] = {"source": self.call, "module": module, "qualname": qualname}
        return obj

    @contextmanager
    def restored(self) -> Iterator[None]:
        """Undo every registration made inside the block (for tests)."""
        added, origins, packages = dict(self._added), dict(self._origins), dict(self._packages)
        try:
            yield
        finally:
            self._added, self._origins, self._packages = added, origins, packages

    def _load(self, name: str) -> None:
        """Import the entry point named ``name``, if one is installed, and register what it loads."""
        points = {p.value: p for p in _entry_points(self.group) if p.name == name}
        if not points:
            return
        if len(points) > 1:
            found = "; ".join(describe(entry_point_origin(p)) for p in points.values())
            raise ConfigError(f"{self.kind} {name!r} is declared by more than one installed package: {found}; "
                              "uninstall all but one of them")
        point = next(iter(points.values()))
        origin = entry_point_origin(point)
        obj = _load_point(self.kind, name, point, origin)
        self._check(obj, describe(origin))
        if obj.name != name:  # type: ignore[attr-defined]
            raise ConfigError(f"{describe(origin)} loads a {self.kind} named {obj.name!r}: the entry point's name and "  # type: ignore[attr-defined]
                              f"its name attribute must agree; rename one of them")
        self._added[name] = obj
        self._origins[name] = origin


def _load_point(kind: str, name: str, point, origin: dict):
    """What the entry point loads; any exception while importing it becomes a ConfigError naming it."""
    try:
        return point.load()
    except Exception as error:  # noqa: BLE001 - a plugin's import can fail in any way
        package = origin["distribution"] or "the package that declares it"
        raise ConfigError(
            f"the {kind} {name!r} could not be loaded: {describe(origin)} raised {type(error).__name__}: {error}; "
            f"fix or reinstall {package} (pip uninstall {package} removes the {kind})"
        ) from error


_SHADOW_WARNED: set[tuple[str, str]] = set()


def _warn_shadowed(kind: str, point) -> None:
    """Once per process and entry point: it is named like a built-in, which it cannot replace."""
    key = (point.group, point.value)
    if key in _SHADOW_WARNED:
        return
    _SHADOW_WARNED.add(key)
    warnings.warn(f"{describe(entry_point_origin(point))} is named like the built-in {kind} {point.name!r}, which a "
                  f"plugin cannot replace: it is ignored; rename it in that package's entry points", NegmineWarning,
                  stacklevel=caller_stacklevel())


def plugin_record(select, formats) -> dict:
    """The summary key ``plugins`` (empty dict: every one built in): where the non-built-in strategy of the run's
    ``select`` (a SelectConfig, or None: no selection) (``{"strategy": {name: origin}}``, with, for a strategy that
    declares params, ``"params"``: the values it ran with, defaults filled in) and export formats
    (``{"export_formats": {name: origin}}``) came from, as :meth:`Registry.origin` gives it. ``selection_version``
    covers the built-ins only: a plugin's package version (or module, for one registered by a call) and its params
    are what tell two runs' choices apart."""
    from negmine.export.registry import export_format_origin

    used: dict[str, dict] = {}
    if select is not None:
        from negmine.select.params import declared, strategy_params
        from negmine.select.strategy import strategy_class, strategy_origin

        origin = strategy_origin(select.strategy)
        if origin is not None:
            cls = strategy_class(select.strategy)
            params = {"params": strategy_params(cls, select)} if declared(cls) else {}
            used["strategy"] = {select.strategy: {**origin, **params}}
    exports = {fmt: origin for fmt in formats if (origin := export_format_origin(fmt)) is not None}
    if exports:
        used["export_formats"] = exports
    return {"plugins": used} if used else {}

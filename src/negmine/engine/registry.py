"""Engine registry: ``--engine`` names to constructors over an :class:`~negmine.config.EngineConfig`."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from negmine.config import EngineConfig
from negmine.engine.base import Engine
from negmine.errors import unknown_choice


def _local(config: EngineConfig, show_progress: bool, checked: bool) -> Engine:
    from negmine.engine.local import LocalEngine

    return LocalEngine()


def _ray(config: EngineConfig, show_progress: bool, checked: bool) -> Engine:
    from negmine.engine.ray_engine import RayEngine

    _check_ray_installed()
    return RayEngine(config.ray_address, config.ray_actors, config.ray_cpus_per_actor, show_progress,
                     address_checked=checked)


def _check_ray_installed() -> None:
    import importlib.util
    import sys

    # not imported here: RayEngine imports it (and undoes what that sets); find_spec raises for a module already
    # imported without a spec (a stand-in), so one in sys.modules counts as installed, unless it is None (a
    # blocked import, e.g. sys.modules["ray"] = None: find_spec gives None and `import ray` fails)
    if sys.modules.get("ray") is None and importlib.util.find_spec("ray") is None:
        from negmine.config_path import path_setting
        from negmine.errors import ConfigError

        raise ConfigError(f"{path_setting('name', 'ray', '--engine')} needs Ray: pip install 'negmine[ray]' (or use "
                          f"{path_setting('name', 'local', '--engine')})")


def check_engine(config: EngineConfig) -> None:
    """What building the engine would refuse, checked before a run loads data or models: for ``--engine ray``,
    Ray installed and ``--ray-address`` (``auto`` included) naming a cluster that answers. Nothing starts."""
    if config.name != "ray":
        return
    from negmine.engine.ray_engine import check_address, running_ray

    _check_ray_installed()
    if running_ray() is None:  # a Ray this process started is joined as it is
        check_address(config.ray_address)


ENGINES: dict[str, Callable[[EngineConfig, bool, bool], Engine]] = {"local": _local, "ray": _ray}


def make_engine(config: EngineConfig, show_progress: bool = False, checked: bool = False) -> Engine:
    """The configured engine. ``checked``: :func:`check_engine` ran on this config already, so what it probed
    (a Ray address: a TCP connection with a timeout) is not probed a second time; without it the engine
    checks for itself."""
    if config.name not in ENGINES:  # an EngineConfig not validated; the field at its path (engine.name in mining)
        from negmine.config_path import field_path, given_option

        raise unknown_choice("engine", config.name, ENGINES, field_path("name"), given_option("name", "--engine"))
    return ENGINES[config.name](config, show_progress, checked)


@contextlib.contextmanager
def open_engine(config: EngineConfig, show_progress: bool = False, checked: bool = False) -> Iterator[Engine]:
    """The configured engine (``checked`` as for :func:`make_engine`), closed on exit."""
    engine = make_engine(config, show_progress, checked)
    try:
        yield engine
    finally:
        engine.close()

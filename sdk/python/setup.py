"""Builds trainscope._native from the header-only C++ SDK (see pyproject.toml)."""
from pathlib import Path

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup

here = Path(__file__).resolve().parent
sdk_include = here.parent / "include"  # sdk/include: the same headers C++ trainers use
if not (sdk_include / "trainscope" / "trainscope.hpp").exists():
    raise SystemExit(f"the C++ SDK headers are missing at {sdk_include}: install from the Trainscope repository")

native = Pybind11Extension(
    "trainscope._native",
    sorted(str(p.relative_to(here)) for p in (here / "src").glob("*.cpp")),
    include_dirs=[str(sdk_include)],
    # The headers too: setuptools rebuilds only what `depends` names, and a build/ left from an
    # older SDK (say, an older segment layout) would otherwise be installed as it is.
    depends=sorted(str(p) for p in [*sdk_include.rglob("*.hpp"), *(here / "src").glob("*.hpp")]),
    cxx_std=17,
)
setup(ext_modules=[native], cmdclass={"build_ext": build_ext})

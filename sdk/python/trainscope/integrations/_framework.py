"""Importing a framework an integration builds on, with one clear error when it is missing."""

from __future__ import annotations


def is_missing(error: ModuleNotFoundError, package: str) -> bool:
    """True when `error` says `package` itself (or one of its modules) is not installed.

    A module missing elsewhere (a broken install, a missing dependency of the framework) is
    a different problem and should surface as it is.
    """
    name = error.name or ""
    return name == package or name.startswith(package + ".")


def missing_framework(integration: str, framework: str, pip_name: str) -> ImportError:
    """The ImportError an integration raises when its framework is not installed."""
    return ImportError(
        f"{integration} needs {framework}, which is not installed: pip install {pip_name}",
        name=pip_name,
    )

"""Trainscope for training frameworks, each in its own module:

- ``trainscope.integrations.lightning.TrainscopeLogger``: a Lightning ``Logger``;
- ``trainscope.integrations.huggingface.TrainscopeCallback``: a transformers ``TrainerCallback``;
- ``trainscope.integrations.accelerate.TrainscopeTracker``: an accelerate ``GeneralTracker``.

None of the frameworks is a dependency of trainscope: a module imports its framework when it
is imported itself, and raises an ``ImportError`` that names the package to install when the
framework is missing. Importing this package imports none of them.
"""

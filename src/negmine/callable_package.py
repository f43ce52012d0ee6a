"""A stage package that can be called as the stage's function: ``negmine.train(config)``, ``negmine.evaluate(config)``.

``negmine`` exports its API functions at the top level (:mod:`negmine`'s lazy ``__getattr__``), and two of them
share their name with the package of their stage: ``negmine.train`` is both the package ``negmine/train/`` and the
function :func:`negmine.train.api.train`. The attribute cannot be the function: importing any module of the
package (``from negmine.train import SUMMARY_NAME``, which loading a model does) sets ``negmine.train`` to the
package, and once the function replaced it, ``import negmine.train.api as api`` failed (``cannot import name
'api' from 'train'``), as did ``monkeypatch.setattr("negmine.train.api.x", ...)``. So the attribute stays the
package, and the package is callable: calling it imports the stage's API module (only then: the trainer imports
transformers) and calls its function with the same arguments.
"""

from __future__ import annotations

import importlib
import sys
import types


class CallablePackage(types.ModuleType):
    """A package whose call is its ``__call_target__`` (``"module:function"``)."""

    __call_target__: str

    def __call__(self, *args, **kwargs):
        module, _, name = self.__call_target__.partition(":")
        return getattr(importlib.import_module(module), name)(*args, **kwargs)


def make_callable(package: str, target: str) -> None:
    """Make the (imported) package ``package`` callable as ``target`` (``"module:function"``, imported on call)."""
    module = sys.modules[package]
    module.__class__ = CallablePackage
    module.__call_target__ = target

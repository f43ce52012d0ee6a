"""negmine: clean contrastive training data for embedding models.

The public Python API mirrors the CLI and is importable from the top level: ``negmine mine``, ``audit``, ``train``
and ``eval`` map onto :func:`negmine.mine` (:func:`negmine.pipeline.mine.mine`), :func:`negmine.run_audit`,
:func:`negmine.train` and :func:`negmine.evaluate`, each taking a frozen config dataclass (``negmine.MineConfig``,
... from :mod:`negmine.config`); ``negmine report`` onto :func:`negmine.training_report` (a training folder) and
:func:`negmine.report_from_files` (an audit's flags and summary). :func:`negmine.mine_dataset` mines a Hugging Face
``datasets.Dataset`` and returns one, as sentence-transformers' ``mine_hard_negatives`` does.
:func:`negmine.register_strategy` and :func:`negmine.register_export_format` add a selection strategy or an export
format of one's own (installed packages add theirs as entry points: :mod:`negmine.plugins`); such a strategy's
``from_config`` reads its params with :func:`negmine.strategy_params`.

These names are imported on first use (PEP 562 ``__getattr__``), and heavy libraries (torch, faiss,
sentence-transformers, datasets) only inside the stages, so ``import negmine`` is cheap. ``negmine.train`` and
``negmine.evaluate`` are the stages' packages, callable as their functions (:mod:`negmine.callable_package`).
"""

from negmine.errors import ConfigError, InputError, NegmineError, NegmineWarning

__version__ = "0.1.0"

_CONFIGS = (
    "MineConfig", "DataConfig", "EncoderConfig", "RetrieveConfig", "FilterConfig", "SelectConfig", "OutputConfig",
    "NearDupConfig", "DenoiseConfig", "EngineConfig", "JudgeConfig", "AuditConfig", "TrainConfig", "EvalConfig",
    "DevEvalConfig",
)

_LAZY: dict[str, str] = {
    "mine": "negmine.pipeline.mine",
    "MineResult": "negmine.pipeline.mine",
    "mine_dataset": "negmine.pipeline.in_memory",
    "run_audit": "negmine.audit.api",
    "train": "negmine.train",  # the package, callable as negmine.train.api.train
    "evaluate": "negmine.evaluate",  # the package, callable as negmine.evaluate.api.evaluate
    "training_report": "negmine.report.training",
    "report_from_files": "negmine.report.render",
    "demo_path": "negmine.demo",
    "demo_pairs": "negmine.demo",
    "register_strategy": "negmine.select.strategy",
    "register_export_format": "negmine.export.registry",
    "strategy_params": "negmine.select.params",
    **{name: "negmine.config" for name in _CONFIGS},
}
"""Each top-level name imported on first access, and the module that holds it."""

__all__ = ["NegmineError", "InputError", "ConfigError", "NegmineWarning", "__version__", *_LAZY]


def __getattr__(name: str):
    """The API name ``name``, imported from its module on first access (then kept as a module attribute)."""
    import importlib

    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    value = module if module.__name__ == f"{__name__}.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})

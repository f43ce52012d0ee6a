"""negmine: clean contrastive training data for embedding models.

The public Python API mirrors the CLI: ``negmine mine``, ``audit``, ``train`` and ``eval`` map onto
:func:`negmine.pipeline.mine.mine`, :func:`negmine.audit.api.run_audit`, :func:`negmine.train.api.train` and
:func:`negmine.evaluate.api.evaluate`, each taking a frozen config dataclass from :mod:`negmine.config`;
``negmine report`` onto :func:`negmine.report.training.training_report` (a training folder) and
:func:`negmine.report.render.report_from_files` (an audit's flags and summary). Heavy libraries (torch,
faiss, sentence-transformers) are imported lazily inside the stages, so importing negmine is cheap.
"""

from negmine.errors import NegmineError, InputError, ConfigError

__all__ = ["NegmineError", "InputError", "ConfigError", "__version__"]
__version__ = "0.1.0"

"""negmine: clean contrastive training data for embedding models.

The public Python API mirrors the CLI one to one: every ``negmine <command>`` maps onto a
function taking a frozen config dataclass from :mod:`negmine.config`. Heavy libraries (torch,
faiss, sentence-transformers) are imported lazily inside the stages, so importing negmine is cheap.
"""

from negmine.errors import NegmineError, InputError, ConfigError

__all__ = ["NegmineError", "InputError", "ConfigError", "__version__"]
__version__ = "0.1.0"

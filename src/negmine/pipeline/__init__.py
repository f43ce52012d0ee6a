"""negmine.pipeline stage."""

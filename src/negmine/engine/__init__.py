"""negmine.engine stage."""

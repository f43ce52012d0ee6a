"""negmine.train stage."""

"""negmine.report stage."""

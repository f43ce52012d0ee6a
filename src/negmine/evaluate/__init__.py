"""negmine.evaluate stage."""

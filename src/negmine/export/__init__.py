"""negmine.export stage."""

"""negmine.audit stage."""

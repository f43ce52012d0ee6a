"""Selection: exclusions, positive-aware filters and strategies (registered by name)."""

"""Orchestration: runs the stages in order for a job (mine, ...). The stages never import this package."""

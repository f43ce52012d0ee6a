"""Reading and validating input data; atomic output writing. Imports no other negmine stage."""

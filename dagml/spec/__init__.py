"""The DSL: what a user declares. Knows nothing of AWS, graphs or execution."""

"""HTTP surfaces: the native API under /api/v1 (endpoints live in each domain package) and the dialects."""

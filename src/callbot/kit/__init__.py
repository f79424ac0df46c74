"""Domain-free helpers: clock, ids, database session scope, secrets."""

"""The do-not-call list (黑名单)."""

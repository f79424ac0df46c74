"""Call records (通话记录)."""

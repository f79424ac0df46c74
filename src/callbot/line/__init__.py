"""Caller lines (主叫线路)."""

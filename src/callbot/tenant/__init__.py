"""Tenants (公司) and their console users."""

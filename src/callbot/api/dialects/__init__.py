"""Vendor dialects: other platforms' open APIs spoken on top of the same services as the native API.

A dialect only translates (authentication, request and response shapes, error codes, callback payloads);
no business rule lives in one.
"""

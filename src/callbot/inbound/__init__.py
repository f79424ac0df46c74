"""Inbound calls (呼入): a customer calls one of the tenant's SIP lines and the line's script answers."""

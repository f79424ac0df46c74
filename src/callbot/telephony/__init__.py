"""Telephony (电话网关): the gateway interface the dialer and call sessions use, and its gateways (sim, later sip)."""

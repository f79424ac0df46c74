"""Callbacks (回调): where events go, and (later) the outbox that delivers them."""

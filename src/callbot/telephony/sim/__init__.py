"""The simulated carrier and customers (模拟外呼): real campaigns without a SIP trunk or speech models."""

from callbot.telephony.sim.carrier import SimCarrier
from callbot.telephony.sim.customer import PERSONAS, customer_for, persona_for
from callbot.telephony.sim.gateway import SimGateway, SimLeg

__all__ = ["PERSONAS", "SimCarrier", "SimGateway", "SimLeg", "customer_for", "persona_for"]

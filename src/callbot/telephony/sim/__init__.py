"""The simulated carrier and customers (模拟外呼): real campaigns without a SIP trunk or speech models."""

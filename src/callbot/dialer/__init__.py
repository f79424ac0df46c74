"""The dialer (外呼调度): which customer to call next, when, on which line; task state moves."""

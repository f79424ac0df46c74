"""Tasks (外呼任务) and their state machine."""

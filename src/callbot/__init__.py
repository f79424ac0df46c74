"""callbot: an open, self-hostable AI call robot platform (AI 外呼 / 呼入机器人)."""

__version__ = "0.1.0"

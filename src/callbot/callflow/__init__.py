"""One call at run time: the gateway leg, the dialogue engine and the grading, joined."""

"""Dialogue (对话): robot scripts (话术), the pure dialogue engine, intent levels and NLU.

Nothing in this package does I/O: it reads no clock, no database and no network, so a call's
dialogue can be replayed, tested and resumed in another process from its state alone.
Import the parts from their modules (`callbot.dialogue.script`, `.engine`, `.levels`,
`.conversation`, `.nlu`); this file stays empty so importing `callbot.dialogue.nlu` loads nothing else.
"""

"""Mandarin intent recognition (意图识别) for ASR text: the contract of docs/intents.md."""

from callbot.dialogue.nlu.intents import BUILTIN_INTENTS, IntentDefinition, Recognition
from callbot.dialogue.nlu.recognizer import IntentRecognizer, build_recognizer

__all__ = ["BUILTIN_INTENTS", "IntentDefinition", "IntentRecognizer", "Recognition", "build_recognizer"]

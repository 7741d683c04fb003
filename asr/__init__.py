"""Streaming offline Chinese speech recognition (vosk); built in the ASR issue."""

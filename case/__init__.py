"""The case around its hearings (一案一空间): a pure state machine beside
``transcript/``, logged and served the same way. No web or media framework
is imported here."""

"""The wire protocol's own rules, shared by the hub, devices and tests."""

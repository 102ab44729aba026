"""The suite as a whole: the registry of its services, the operator CLI and the AsyncAPI generator.

It sits above `services/` and `libs/` and imports the services like any other package does; `libs/`
knows no service, and no service knows another (tests/unit/test_architecture.py)."""

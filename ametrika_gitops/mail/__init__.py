"""Test sends: messages, SMTP transport, verified recipients (design §9)."""

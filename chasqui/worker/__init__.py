"""Background work: draining conversations through the engine and sending the outbox."""

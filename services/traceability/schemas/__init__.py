"""What the traceability HTTP API accepts and returns, one module per subject."""

"""One async function per thing a user or another service can ask of traceability, one module per subject."""

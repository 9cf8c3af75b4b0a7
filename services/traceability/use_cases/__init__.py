"""One async function per thing a user or another service can ask of traceability, one module per subject."""

from services.traceability.use_cases.actors import record_actor  # the name callers used before the package

__all__ = ["record_actor"]

"""Every query of the traceability service, one module per aggregate; reads are scoped to the caller's org."""

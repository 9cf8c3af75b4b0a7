"""Use cases of the scoring service: frameworks, assessments, progress."""

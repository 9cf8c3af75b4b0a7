"""The scoring service's rules: frameworks as data, assessments against them, and what an assessment adds up to."""

"""Tests of the sanctions/watchlist screening engine."""

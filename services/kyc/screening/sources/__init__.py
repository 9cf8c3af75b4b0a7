"""Importers for the published list formats (UN, OFAC, FollowTheMoney, operator CSV)."""

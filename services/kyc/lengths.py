"""How long each text the KYC service stores may be: one number per field, used by the table's column and by the
API schema that accepts it, so a value the schema lets through always fits (tests/kyc/test_lengths.py checks)."""

from __future__ import annotations

ORG_ID = 100  # an organisation's id, as tokens name it (also a share's grantee)
USER_ID = 100  # a token's subject
NAME = 300  # an actor's legal name, a person's full name, an alias, a site's name, an address street
IDENTIFIER = 100  # registration, tax and licence numbers, a person's identifiers, short address parts
ISSUER = 200  # the authority that issued a licence
INSPECTOR = 200  # who inspected a site, and for which agency
WATCHLIST_NAME = 200
WATCHLIST_SOURCE = 500  # where a list's files come from, e.g. a URL
SMELTER_FACILITY_ID = 20  # RMI "CID" + 6 digits, with room for spacing the domain removes
COUNTRY = 2  # ISO 3166-1 alpha-2, as stored
REGION = 10  # ISO 3166-2, as stored (and a risk area: a country or a region)
# What the API accepts for a country, region or HS code: more than is stored, so a wrong code reaches the domain and
# gets its own problem code (unknown_country, unknown_region, invalid_hs_code) instead of a length error.
CODE_INPUT = 10
HS_CODE_INPUT = 20
FILENAME = 255  # an uploaded document's name, cut to this by the domain

"""python -m services.traceability api|worker|migrate|deadletters|replay-deadletters"""

from libs.common import entry
from services.traceability.main import SERVICE

entry.main(SERVICE)

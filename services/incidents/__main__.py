"""python -m services.incidents api|worker|migrate|deadletters|replay-deadletters"""

from libs.common import entry
from services.incidents.main import SERVICE

entry.main(SERVICE)

"""python -m services.scoring api|worker|migrate|deadletters|replay-deadletters"""

from libs.common import entry
from services.scoring.main import SERVICE

entry.main(SERVICE)

"""python -m services.kyc api|worker|migrate|deadletters|replay-deadletters"""

from libs.common import entry
from services.kyc.main import SERVICE

entry.main(SERVICE)

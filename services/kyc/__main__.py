"""python -m services.kyc api|worker|migrate"""
from services.kyc.worker import main

main()

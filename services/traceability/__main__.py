"""python -m services.traceability api|worker|migrate"""
from services.traceability.worker import main

main()

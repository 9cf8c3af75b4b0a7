"""python -m services.incidents api|worker|migrate"""
from services.incidents.worker import main

main()

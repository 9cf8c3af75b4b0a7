"""python -m services.scoring api|worker|migrate"""
from services.scoring.worker import main

main()

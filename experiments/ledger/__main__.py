from experiments.ledger.runner import main

main()

from quba.cli.app import main

main()

from conformance.cli import main

if __name__ == "__main__":  # platforms run in spawned processes, which re-import this module
    raise SystemExit(main())

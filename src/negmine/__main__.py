"""``python -m negmine``: the same command line as the ``negmine`` entry point."""

from negmine.cli import main

if __name__ == "__main__":
    main()

"""Entry point of the Nuitka single file (build/build-binary): `counterfoil ...`."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())

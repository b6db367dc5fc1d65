import sys

from destination_vectors.cli import main

sys.exit(main())

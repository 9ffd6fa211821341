import sys

from latentwatch.cli import main

sys.exit(main())

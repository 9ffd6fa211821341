"""The same benchmark without the CLI registry: python -m latentwatch.bench.e2e [options]."""

import argparse
import sys

from latentwatch.bench.e2e import __doc__ as DOC
from latentwatch.bench.e2e import add_arguments, run

parser = argparse.ArgumentParser(prog="latentwatch bench e2e", description=DOC.splitlines()[0])
add_arguments(parser)
sys.exit(run(parser.parse_args()))

import sys

from demo.runner import cli

sys.exit(cli())

import sys

from lnob.cli import main

sys.exit(main())

"""`python -m mockzoho`: the `mockzoho` command."""

import sys

from .cli import main

sys.exit(main())

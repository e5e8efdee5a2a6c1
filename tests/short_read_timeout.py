"""A gunicorn config module for tests: mockzoho's serving settings with a read timeout of one second, so that
a test can see a stalled client let go without waiting the real 30 s."""

import mockzoho.server
from mockzoho.server import *  # noqa: F401,F403 - every setting gunicorn reads from the config module

mockzoho.server.READ_TIMEOUT = 1.0  # read by each connection's socket, in the workers forked from here

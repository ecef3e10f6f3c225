from testkit.stores import *  # noqa: F401,F403

"""Literature encoders (issue #15): filled in by their own change."""

import tabbench


@tabbench.hookimpl
def tabbench_encoders():
    return []

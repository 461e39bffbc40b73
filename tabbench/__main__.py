"""``python -m tabbench``."""

from tabbench.cli import main

main()

"""`python -m corridor.cli`: the `corridor` command without its console script.

`corridor up` starts its parts this way (`sys.executable -m corridor.cli ...`), so each part is
the real command run by the same interpreter, whether or not the script is on the PATH.
"""

import sys

from corridor.cli import main

sys.exit(main())

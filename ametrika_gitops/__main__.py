from __future__ import annotations

import sys

from ametrika_gitops.cli import main

sys.exit(main())

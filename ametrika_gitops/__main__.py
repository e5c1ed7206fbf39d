from __future__ import annotations

import sys

from ametrika_gitops.cli.main import main

sys.exit(main())

"""Shared test settings."""

import os

# Figures are drawn in the test process: a helper process per report would make the suite's time
# depend on how idle the machine is (tests/report/test_workers.py starts its helpers explicitly).
os.environ.setdefault("BLOCSIM_PLOT_WORKERS", "0")

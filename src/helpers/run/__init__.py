"""One quarter, unattended: the orchestration of a run (``quarter``), a notebook job with its
timeouts and retry (``jobs``), the fork-server kernels (``forkserver``, ``forkkernel``; ``stale_kernels`` removes
what a killed run left in TMPDIR), the
built-in schedule (``schedule``), backfills (``backfill``) and reproduction of a published run
(``reproduce``). The top of the stack below the command line."""

"""`python -m orchestration.sample [OUT_DIR]`: write the sample studio's landing files."""

from orchestration.sample.writer import main

raise SystemExit(main())

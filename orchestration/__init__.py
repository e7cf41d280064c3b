"""Studio Budget Warehouse: the pipeline's code (README "Where things are")."""

import warnings

from orchestration import gx_import

# PySpark (the Spark engine) warns at import that it does not yet support pandas 3; nothing here hands it a pandas
# object. The dbt processes get the same filter (lib/dbt.py).
PYSPARK_PANDAS_WARNING = "PySpark does not yet fully support pandas"
warnings.filterwarnings("ignore", message=PYSPARK_PANDAS_WARNING, category=FutureWarning)
# Great Expectations without the libraries it imports and the gate never calls (gx_import.py)
gx_import.install()

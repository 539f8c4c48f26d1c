"""One local Spark session for the engine tests (started once; stopped at the end).

Spark writes a warehouse, a Derby metastore, scratch space and logs into the
working directory unless told otherwise; every such path points into a
temporary directory here, so the suite leaves nothing in the repository.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

# Errors only: no banner, no warnings about the host name or native Hadoop libraries.
LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A ``local[2]`` SparkSession with Arrow on, UTC session time, no UI, quiet logs."""
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    scratch = tmp_path_factory.mktemp("spark")
    log4j = scratch / "log4j2.properties"
    log4j.write_text(LOG4J2)
    java = f"-Dderby.system.home={scratch / 'derby'} -Dlog4j2.configurationFile=file:{log4j}"
    with pytest.MonkeyPatch.context() as env:
        # Python workers run this interpreter (the venv's, where trustops is installed).
        env.setenv("PYSPARK_PYTHON", sys.executable)
        env.setenv("PYSPARK_DRIVER_PYTHON", sys.executable)
        session = (
            SparkSession.builder.master("local[2]")
            .appName("trustops-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.default.parallelism", "4")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            # Naive pandas timestamps are read in the session time zone: UTC, as
            # trustops reads them in every other engine.
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
            .config("spark.local.dir", str(scratch / "local"))
            .config("spark.driver.extraJavaOptions", java)
            .config("spark.executor.extraJavaOptions", java)
            # Tiny test jobs only: adaptive planning and whole-stage code generation
            # cost more than they save here (about 5 s of the first jobs).
            .config("spark.sql.adaptive.enabled", "false")
            .config("spark.sql.codegen.wholeStage", "false")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        try:
            yield session
        finally:
            session.stop()

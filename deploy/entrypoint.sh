#!/bin/sh
# Every Omniva container: write $DAGSTER_HOME/dagster.yaml from deploy/dagster.yaml
# (OMNIVA_GPUS, OMNIVA_MAX_CONCURRENT_RUNS), then run the service's command.
set -eu
python -m omniva_assets.deployment instance >/dev/null
exec "$@"

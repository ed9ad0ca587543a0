#!/usr/bin/env bash
# Validates what CI cannot run: the compose file, every YAML file, and that
# every FOOTFALL_* variable the deployment sets is a real setting.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "-- docker-compose config"
docker-compose -f docker-compose.yml config -q
docker-compose -f docker-compose.yml --profile generator config -q

echo "-- yamllint"
yamllint -s docker-compose.yml deploy/k8s/*.yaml .yamllint

echo "-- FOOTFALL_* variables are settings of the binaries"
names=$(grep -ho 'FOOTFALL_[A-Z0-9_]*' docker-compose.yml deploy/k8s/*.yaml deploy/Dockerfile | sort -u)
build/bin/footfall settings --check $names
echo "   $(echo "$names" | wc -l) variables, all known"

#!/bin/sh
# Installs the Debian packages footfall's build, tests and demo need, only those missing.
# Idempotent and quiet when everything is present. Run as root (or via sudo).
#   deploy/install-deps.sh          build, tests, demo
#   deploy/install-deps.sh fuzz     and clang for the libFuzzer targets (make fuzz)
#   deploy/install-deps.sh valgrind and valgrind (make valgrind)
#   deploy/install-deps.sh style    and clang-format (make style)
#   deploy/install-deps.sh ci       and all of the above, and what CI checks the deployment files with
set -eu

# One package per line: what it is for is in the comment.
PACKAGES="
gcc
make
pkg-config
librdkafka-dev
libhiredis-dev
libjansson-dev
libmicrohttpd-dev
libcurl4-openssl-dev
libavro-dev
libcriterion-dev
redis-server
redis-tools
"
# librdkafka-dev:  Kafka client and the mock cluster behind 'footfall broker'
# libhiredis-dev:  Redis client
# libjansson-dev:  JSON (Avro schemas, CLI output)
# libmicrohttpd-dev: /metrics, /healthz, /readyz
# libcurl4-openssl-dev: the Schema Registry client
# libavro-dev:     Avro-C, the reference implementation our codec is tested against
# libcriterion-dev: unit and integration tests
# redis-server, redis-tools: the state store the tests and the demo start
FUZZ_PACKAGES="clang libclang-rt-14-dev"
VALGRIND_PACKAGES="valgrind"
STYLE_PACKAGES="clang-format"
CI_PACKAGES="yamllint docker-compose"
case "${1:-}" in
    fuzz) PACKAGES="$PACKAGES $FUZZ_PACKAGES" ;;
    valgrind) PACKAGES="$PACKAGES $VALGRIND_PACKAGES" ;;
    style) PACKAGES="$PACKAGES $STYLE_PACKAGES" ;;
    ci) PACKAGES="$PACKAGES $FUZZ_PACKAGES $VALGRIND_PACKAGES $CI_PACKAGES" ;;
    "") ;;
    *) echo "usage: $0 [fuzz|valgrind|style|ci]" >&2; exit 2 ;;
esac

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "footfall: missing Debian packages:$missing" >&2
    echo "footfall: run 'sudo deploy/install-deps.sh' (or install them with apt-get) and retry" >&2
    exit 1
fi

echo "footfall: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh image has empty package lists; refresh them once.
if ! apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
echo "footfall: dependencies installed" >&2

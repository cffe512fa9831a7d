#!/bin/sh
# Generate configure and Makefile.in; none of the outputs is committed.
set -e
cd "$(dirname "$0")"
autoreconf -fi

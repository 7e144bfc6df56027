#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerate the build system (configure, Makefile.in, build-aux/).
set -e
cd "$(dirname "$0")"
exec autoreconf -fi

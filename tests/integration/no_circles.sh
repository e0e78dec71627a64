#!/usr/bin/env bash
# No circle in any folder (issue 14): the libraries call only downwards (core <- lists <-
# detectors, exporters <- collector) and the files of each folder call each other without a
# circle (the pipeline's rooms, the sources, the detectors around their registry, ...). Checked
# on the object files with nm (tests/integration/no_circles.py); collector/decode/ is held to a
# strict order of layers by decode_layers.sh.
set -euo pipefail
bin=${TW_BIN:?TW_BIN: the build directory}
src=${TW_SRC:?TW_SRC: the source directory}
command -v nm >/dev/null || { echo "no_circles: nm not installed" >&2; exit 77; }
exec python3 "$src/tests/integration/no_circles.py" "$bin" "$src"

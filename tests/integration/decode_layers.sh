#!/usr/bin/env bash
# The decoder's files are layers (collector/decode/decode_int.h): each may call only functions
# defined in a lower layer, never one of its own layer in another file, never one above. Checked
# on the object files: every symbol a decode object leaves undefined and another decode object
# defines must come from a lower layer.
set -euo pipefail
bin=${TW_BIN:?TW_BIN: the build directory}
dir=$bin/collector/CMakeFiles/tw_collector.dir/decode
if [[ ! -d $dir ]]; then
  echo "decode_layers: no objects in $dir (build tw_collector first)" >&2
  exit 77
fi
command -v nm >/dev/null || { echo "decode_layers: nm not installed" >&2; exit 77; }

declare -A rank=([decode_core]=0 [decode_tmpl]=1 [decode_exporter]=2 [decode_iface]=2 [decode_pending]=2
                 [nf5]=3 [nf9]=3 [ipfix]=3 [sflow]=3 [decode]=4)
declare -A owner
for o in "$dir"/*.c.o; do
  f=$(basename "$o" .c.o)
  [[ -n ${rank[$f]+x} ]] || { echo "decode_layers: $f.c has no layer (add it here and in decode_int.h)"; exit 1; }
  while read -r sym; do owner[$sym]=$f; done < <(nm --defined-only -g "$o" | awk '$2 ~ /[TDBR]/ {print $3}')
done
((${#owner[@]} > 0)) || { echo "decode_layers: no symbols found"; exit 1; }
bad=0 checked=0
for o in "$dir"/*.c.o; do
  f=$(basename "$o" .c.o)
  while read -r sym; do
    d=${owner[$sym]:-}
    [[ -n $d && $d != "$f" ]] || continue
    checked=$((checked + 1))
    if ((rank[$d] >= rank[$f])); then
      echo "decode_layers: $f.c (layer ${rank[$f]}) calls $sym of $d.c (layer ${rank[$d]})"
      bad=1
    fi
  done < <(nm -u "$o" | awk '{print $2}')
done
((checked > 10)) || { echo "decode_layers: only $checked cross-file calls found: objects not as expected"; exit 1; }
((bad == 0)) || exit 1
echo "decode_layers: $checked cross-file references, all downward"

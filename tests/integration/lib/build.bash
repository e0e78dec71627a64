# build.bash: what the build under test ($TW_BIN) was configured with (sourced).
# build_has OPTION...: true when any of the TW_ options is ON in its CMake cache, e.g.
#   build_has SANITIZE TSAN     (a sanitizer build)
build_has() {
  local IFS='|'
  grep -Eq "^TW_($*):BOOL=ON" "$TW_BIN/CMakeCache.txt" 2>/dev/null
}

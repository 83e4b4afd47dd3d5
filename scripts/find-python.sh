#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 runs on 3.8-3.10 only).
# Looks at $PYTHON, python3.10 on PATH, then pyenv's installed versions.
set -u
is_310() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }

for candidate in "${PYTHON:-}" "$(command -v python3.10 2>/dev/null)"; do
  if is_310 "$candidate"; then echo "$candidate"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for dir in $(ls -d "$root"/versions/3.10.* 2>/dev/null | sort -V -r); do
    if is_310 "$dir/bin/python"; then echo "$dir/bin/python"; exit 0; fi
  done
fi
cat >&2 <<'MSG'
error: Python 3.10 was not found (Rasa 3.6 needs Python 3.10; 3.11+ will not work).
Install it with one of:
  pyenv install 3.10.13            (then run make again; pyenv versions are found automatically)
  apt-get install python3.10 python3.10-venv
or point PYTHON at an interpreter:  make run PYTHON=/path/to/python3.10
MSG
exit 1

#!/usr/bin/env bash
# Extract UI strings into the template and merge them into the sv/en catalogs.
# Run after changing UI text; then translate the new entries in domain/locale/sv/.
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel extract -F babel.cfg --no-location --sort-output --omit-header \
  -k t -k gettext:2 -k ngettext:1,2 -k N_ -k N_plural:1,2 \
  -o domain/locale/samverkan.pot bot handlers domain
for lang in sv en; do
  po="domain/locale/$lang/LC_MESSAGES/samverkan.po"
  if [ -f "$po" ]; then
    pybabel update --no-fuzzy-matching --ignore-obsolete --omit-header -i domain/locale/samverkan.pot -d domain/locale -D samverkan -l "$lang"
  else
    pybabel init -i domain/locale/samverkan.pot -d domain/locale -D samverkan -l "$lang"
  fi
done

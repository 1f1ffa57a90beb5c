#!/bin/sh
# Regenerate po/djcal.pot from the CLI's sources and merge it into every
# catalogue.  Run from the top directory after changing a message:
#     sh po/update.sh && msgfmt -c --statistics -o /dev/null po/zh_CN.po
set -e
cd "$(dirname "$0")/.."
xgettext --from-code=UTF-8 --language=C --keyword=_ --keyword=N_ \
	--add-comments=TRANSLATORS --sort-by-file \
	--package-name=djcal --package-version=0.1.0 \
	--msgid-bugs-address="" \
	--copyright-holder="the djcal authors" \
	-o po/djcal.pot src/cli/*.c
for po in po/*.po; do
	[ -f "$po" ] || continue
	msgmerge --quiet --update --backup=none --no-fuzzy-matching "$po" \
		po/djcal.pot
done

#!/bin/sh
# Every manual page is clean under mandoc's lint at warning level (style
# notes about pages not installed on this machine are not warnings), and
# no example holds a C escape written raw: roff reads \n, \r, \t and \0
# as its own escapes (\n" interpolates a register), so "\r\n" in an
# example rendered as nothing and cut the line; write \en, \er, ...
command -v mandoc >/dev/null 2>&1 || {
	echo "SKIP: no mandoc" >&2
	exit 77
}
status=0
for page in "$top_srcdir"/man/*.[0-9]; do
	mandoc -Tlint -Wwarning "$page" || status=1
	if grep -n '\\[nrt0]' "$page" >&2; then
		echo "$page: a raw C escape above: write \\e before it" >&2
		status=1
	fi
done
exit $status

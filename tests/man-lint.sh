#!/bin/sh
# Every manual page is clean under mandoc's lint at warning level (style
# notes about pages not installed on this machine are not warnings).
command -v mandoc >/dev/null 2>&1 || {
	echo "SKIP: no mandoc" >&2
	exit 77
}
status=0
for page in "$top_srcdir"/man/*.[0-9]; do
	mandoc -Tlint -Wwarning "$page" || status=1
done
exit $status

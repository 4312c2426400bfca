#!/bin/sh
# net-snmp "pass" script for ripple's SNMP tests: answers GET (-g) for a few
# OIDs from files next to this script. GETNEXT (-n) and SET are not served.
dir=$(dirname "$0")
[ "$1" = "-g" ] || exit 0
oid="$2"
answer() { # type file
	[ -f "$dir/$2" ] || exit 0
	echo "$oid"
	echo "$1"
	cat "$dir/$2"
}
case "$oid" in
.1.3.6.1.4.1.99999.1.0) answer counter c32 ;;
.1.3.6.1.4.1.99999.2.0) answer counter64 c64 ;;
.1.3.6.1.4.1.99999.3.0) answer gauge gauge ;;
.1.3.6.1.4.1.99999.4.0) answer string text ;;
.1.3.6.1.2.1.1.3.0) answer timeticks uptime ;;
esac
exit 0

package definitions

import (
	"net/netip"
	"strings"
)

// parseAddress accepts a hostname, an IPv4 address or a bracketed IPv6
// address and returns it without brackets. Anything else is refused, above
// all anything a shell or ssh could read as more than an address: spaces,
// a leading '-', '@', ';', '$', quotes, '%' zones.
func parseAddress(s string) (string, bool) {
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		a, err := netip.ParseAddr(s[1 : len(s)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", false
		}
		return a.String(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Is4() {
			return s, true
		}
		return "", false // bare IPv6 must be bracketed
	}
	return s, validHostname(s)
}

// validHostname follows RFC 1123: dot-separated labels of letters, digits
// and inner hyphens, each 1-63 bytes, 253 bytes in all. A trailing dot is
// allowed. Underscores are allowed too, since internal DNS often has them.
func validHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	allDigits := true
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_':
				allDigits = false
			case c >= '0' && c <= '9':
			default:
				return false
			}
		}
	}
	// "10.0.0.300" is a mistyped IPv4 address, not a hostname.
	return !allDigits
}

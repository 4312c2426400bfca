package httpapi

// Lookup finds the identity a token belongs to, as the API's bearer check
// does; the web UI uses it for its session cookie.
func (t *Tokens) Lookup(token string) (Identity, bool) { return t.lookup(token) }

// Allows reports whether a caller with role r may do what needs role need.
func (r Role) Allows(need Role) bool { return r.allows(need) }

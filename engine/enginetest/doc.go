// Package enginetest holds the fakes the components' tests share: an
// in-memory store of every engine store interface (with a crash switch for
// recovery tests), a recording executor and a scripted checker, virtual
// time, a progress recorder, throw-away git repositories, and a small
// tmpfs to fill (a real full disk). Only tests import it.
package enginetest
